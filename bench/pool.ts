// Runs fn over items with at most `concurrency` of them in flight: the bench's workers.
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (x: T) => Promise<void>,
): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}
