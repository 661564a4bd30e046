// The decoding thread's entry. Node 20 does not pass a worker's .ts entry through loader hooks
// inherited from --import (ERR_UNKNOWN_FILE_EXTENSION), so this plain module registers tsx in the
// worker and then imports the TypeScript worker (works under `tsx edge/main.ts` and `node --import tsx`).
import { register } from 'tsx/esm/api';

register();
await import('./edge-worker.ts');
