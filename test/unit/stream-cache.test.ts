// The embedded engine's in-memory states: least recently used out beyond the limit, frozen, and off at 0.
import { StreamCache } from '../../engine/embedded/engine';

const loaded = (n: number) => ({
  version: n,
  state: { n, nested: { list: [n] } },
  headHash: 'h',
  exists: true,
  lag: 0,
});

test('beyond its limit the least recently used stream goes; reading one makes it recent', () => {
  const c = new StreamCache(2);
  c.set('a', loaded(1));
  c.set('b', loaded(2));
  expect(c.get('a')?.version).toBe(1); // a is now the most recent
  c.set('c', loaded(3));
  expect(c.get('b')).toBeUndefined();
  expect(c.get('a')?.version).toBe(1);
  expect(c.get('c')?.version).toBe(3);
  expect(c.size).toBe(2);
});

test('a cached state is frozen all the way down', () => {
  const c = new StreamCache(5);
  c.set('a', loaded(1));
  const s = c.get<{ nested: { list: number[] } }>('a')!.state;
  expect(Object.isFrozen(s)).toBe(true);
  expect(() => s.nested.list.push(2)).toThrow(TypeError);
});

test('size 0 keeps nothing', () => {
  const c = new StreamCache(0);
  c.set('a', loaded(1));
  expect(c.get('a')).toBeUndefined();
  expect(c.size).toBe(0);
});
