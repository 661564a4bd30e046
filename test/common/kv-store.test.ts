import t from 'tap';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { kvStoreContract } from './kv-store.contract';

t.test('memory backend', async (t) => kvStoreContract(t, async () => createMemoryKvStore()));
t.test('LevelDB backend', async (t) => {
  let n = 0;
  const dir = t.testdir({});
  kvStoreContract(t, () => openLevelKvStore(`${dir}/db${n++}`));
});
