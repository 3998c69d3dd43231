import { esmPreset } from '../../jest.preset.js';

export default { ...esmPreset, displayName: 'cli' };
