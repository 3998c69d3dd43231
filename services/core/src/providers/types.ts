import type { Classification, Description, ImageContentType, LabelScore, ProviderName } from '../schemas.ts';

export interface ImageInput {
  bytes: Uint8Array;
  contentType: ImageContentType;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** An image classifier (SageMaker endpoint serving the model server). */
export interface Classifier {
  readonly provider: 'sagemaker';
  classify(image: ImageInput, options?: CallOptions): Promise<Classification>;
}

export interface DescribeOptions extends CallOptions {
  /** The classifier's labels, offered to the LLM as a hint when the pipeline has them. */
  hints?: LabelScore[];
}

/** A vision LLM that returns a caption and tags, checked by the guardrail. */
export interface Describer {
  readonly provider: Exclude<ProviderName, 'sagemaker'>;
  describe(image: ImageInput, options?: DescribeOptions): Promise<Description>;
}

export type Provider = Classifier | Describer;
