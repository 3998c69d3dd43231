import {
  providerNames,
  type Classification,
  type Description,
  type ProviderName,
  type ResultRecord,
} from '@mc-vision/core/schemas';
import {
  formatLatency,
  formatScore,
  formatTimestamp,
  formatTokens,
  formatUsd,
  providerLabels,
} from '../format.ts';

function ClassificationCard({ result }: { result: Classification }) {
  return (
    <article className="card" aria-labelledby="classifier-heading">
      <h3 id="classifier-heading">SageMaker classifier</h3>
      <p className="meta">
        {result.model} · {formatLatency(result.latencyMs)}
      </p>
      <ul className="labels" aria-label="Classifier labels">
        {result.labels.map(({ label, score }) => (
          <li key={label}>
            <span className="label">{label}</span>
            <span className="bar" aria-hidden="true">
              <span style={{ width: formatScore(score) }} />
            </span>
            <span className="score">{formatScore(score)}</span>
          </li>
        ))}
      </ul>
    </article>
  );
}

function DescriptionCard({ provider, result }: { provider: ProviderName; result: Description }) {
  const { guardrail } = result;
  return (
    <article className="card" aria-label={`${providerLabels[provider]} description`}>
      <h3>
        {providerLabels[provider]}
        {result.emulated && (
          <span className="badge emulated" title="Produced by the local emulator, not the real service">
            emulated
          </span>
        )}
      </h3>
      <p className="meta">{result.model}</p>
      <blockquote className="caption">{result.caption}</blockquote>
      {result.tags.length > 0 && (
        <ul className="tags" aria-label={`${providerLabels[provider]} tags`}>
          {result.tags.map((tag) => (
            <li key={tag}>{tag}</li>
          ))}
        </ul>
      )}
      <dl className="facts">
        <dt>Guardrail</dt>
        <dd>
          <span className={`badge guardrail-${guardrail.action.toLowerCase()}`}>{guardrail.action}</span>
          {guardrail.findings.map((finding) => (
            <span key={`${finding.policy}-${finding.type}`} className="finding">
              {finding.policy}/{finding.type}: {finding.action.toLowerCase()}
            </span>
          ))}
        </dd>
        <dt>Tokens</dt>
        <dd>{formatTokens(result.usage)}</dd>
        <dt>Cost</dt>
        <dd>{formatUsd(result.costUsd)}</dd>
        <dt>Latency</dt>
        <dd>{formatLatency(result.latencyMs)}</dd>
      </dl>
    </article>
  );
}

export function RecordView({ record }: { record: ResultRecord }) {
  const { results, errors = {} } = record;
  const failed = providerNames.filter((name) => errors[name]);
  return (
    <section aria-labelledby="record-heading" className="panel record">
      <h2 id="record-heading">
        Result <span className={`badge status-${record.status}`}>{record.status}</span>
      </h2>
      <p className="meta">
        <code>{record.requestId}</code> · {record.source} · {formatTimestamp(record.createdAt)} ·{' '}
        <code>{record.imageKey}</code>
      </p>
      {failed.length > 0 && (
        <ul className="provider-errors" aria-label="Provider errors">
          {failed.map((name) => (
            <li key={name} className="error">
              <strong>{providerLabels[name]}</strong> failed: {errors[name]?.message}{' '}
              <code>{errors[name]?.code}</code>
            </li>
          ))}
        </ul>
      )}
      <div className="cards">
        {results.sagemaker && <ClassificationCard result={results.sagemaker} />}
        {results.bedrock && <DescriptionCard provider="bedrock" result={results.bedrock} />}
        {results.azure && <DescriptionCard provider="azure" result={results.azure} />}
      </div>
    </section>
  );
}
