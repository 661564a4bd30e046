/**
 * Least-recently-used eviction for the decoder's tables (exporters, domains, templates) without any
 * work per record or per datagram: the owner only stamps `lastUse` with a monotonic tick when it uses
 * an entry. The queue keeps entries in the order they were (re)queued, with the tick they were
 * queued at; evict() looks at the front and gives an entry used since it was queued a second chance
 * (moves it to the back) — the "clock" / second-chance algorithm. Every move is paid for by a use
 * since the last move, so eviction is amortised O(1), and the entry it returns has the smallest
 * lastUse of all (ticks only grow, and an entry behind it was queued, or used, no earlier).
 */
export interface Recent {
  /** Tick of the last use; the owner writes it. */
  lastUse: number;
}

export interface RecencyQueue<T extends Recent> {
  readonly size: number;
  /** Queue a new entry (its lastUse must already be set). */
  add(entry: T): void;
  delete(entry: T): void;
  /** Remove and return the least recently used entry; undefined when empty. */
  evict(): T | undefined;
  values(): IterableIterator<T>;
}

interface Node<T> {
  entry: T;
  queuedAt: number;
  prev: Node<T> | null;
  next: Node<T> | null;
}

/**
 * A linked list plus a Map for delete(). Not a Map alone used as a queue: V8 leaves a hole per
 * deleted Map entry until the table is rehashed, so taking the first entry again and again after
 * deletes walks the holes. A class, not a closure per method: one is made per exporter.
 */
class LinkedRecencyQueue<T extends Recent> implements RecencyQueue<T> {
  private readonly nodes = new Map<T, Node<T>>();
  private head: Node<T> | null = null;
  private tail: Node<T> | null = null;

  get size(): number { return this.nodes.size; }

  add(entry: T): void {
    if (this.nodes.has(entry)) return;
    const node: Node<T> = { entry, queuedAt: entry.lastUse, prev: null, next: null };
    this.nodes.set(entry, node);
    this.append(node);
  }

  delete(entry: T): void {
    const node = this.nodes.get(entry);
    if (node === undefined) return;
    this.nodes.delete(entry);
    this.unlink(node);
  }

  evict(): T | undefined {
    for (;;) {
      const node = this.head;
      if (node === null) return undefined;
      this.unlink(node);
      if (node.entry.lastUse > node.queuedAt) {
        node.queuedAt = node.entry.lastUse; // used since queued: second chance
        this.append(node);
        continue;
      }
      this.nodes.delete(node.entry);
      return node.entry;
    }
  }

  values(): IterableIterator<T> { return this.nodes.keys(); }

  private append(node: Node<T>): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
  }

  private unlink(node: Node<T>): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
  }
}

export function createRecencyQueue<T extends Recent>(): RecencyQueue<T> {
  return new LinkedRecencyQueue<T>();
}
