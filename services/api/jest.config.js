import { esmPreset } from '../../jest.preset.js';

// The preset's swc options, keeping import attributes: `import … with { type: 'json' }` must reach Node as written.
const [pattern, [transformer, swcOptions]] = Object.entries(esmPreset.transform)[0];
const keepAttributes = {
  ...swcOptions,
  jsc: {
    ...swcOptions.jsc,
    experimental: { keepImportAttributes: true, emitAssertForImportAttributes: false },
  },
};

export default { ...esmPreset, displayName: 'api', transform: { [pattern]: [transformer, keepAttributes] } };
