/**
 * Splits a Kubernetes list body (`{"kind":…,"metadata":{…},"items":[{…},{…}]}`) as it arrives into its
 * items, each parsed alone, so that a list is never held whole: metrics-server, for one, ignores
 * `limit` and answers the whole cluster in one body. The other top-level members (metadata with its
 * `continue`) are small and parsed whole.
 */
const OPEN_OBJ = 0x7b; // {
const CLOSE_OBJ = 0x7d; // }
const OPEN_ARR = 0x5b; // [
const CLOSE_ARR = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

export class ListItemSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The text of the top-level member being read (its key, then its value unless it is `items`). */
  private member = '';
  private key: string | undefined;
  /** Inside the `items` array (depth 2): the text of the item being read, from its opening brace. */
  private inItems = false;
  private item: string[] = [];
  private itemStart = -1;
  /** The list's top-level members other than `items`. */
  readonly top: Record<string, unknown> = {};

  constructor(private readonly onItem: (item: unknown) => void) {}

  push(chunk: string): void {
    const n = chunk.length;
    // Where, in this chunk, the text kept for the current member or item starts.
    let keepFrom = this.itemStart >= 0 || (this.depth >= 1 && !this.inItems) ? 0 : -1;
    if (this.itemStart >= 0) this.itemStart = 0;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        continue;
      }
      if (c === OPEN_OBJ || c === OPEN_ARR) {
        this.depth++;
        if (this.depth === 1) {
          keepFrom = i + 1;
          this.member = '';
        } else if (this.depth === 2 && this.key === 'items' && c === OPEN_ARR && !this.inItems) {
          this.inItems = true;
          keepFrom = -1;
        } else if (this.depth === 3 && this.inItems) {
          this.itemStart = i;
          this.item = [];
        }
        continue;
      }
      if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        this.depth--;
        if (this.depth === 2 && this.inItems && this.itemStart >= 0) {
          this.item.push(chunk.slice(this.itemStart, i + 1));
          this.itemStart = -1;
          const text = this.item.join('');
          this.item = [];
          this.onItem(JSON.parse(text));
        } else if (this.depth === 1 && this.inItems) {
          this.inItems = false;
          this.key = undefined;
          keepFrom = i + 1;
          this.member = '';
        } else if (this.depth === 0) {
          if (keepFrom >= 0) this.member += chunk.slice(keepFrom, i);
          this.endMember();
          keepFrom = -1;
        }
        continue;
      }
      if (this.depth === 1 && !this.inItems) {
        if (c === COLON && this.key === undefined) {
          this.key = JSON.parse((this.member + chunk.slice(keepFrom, i)).trim()) as string;
          this.member = '';
          keepFrom = i + 1;
        } else if (c === COMMA) {
          this.member += chunk.slice(keepFrom, i);
          this.endMember();
          keepFrom = i + 1;
        }
      }
    }
    if (this.itemStart >= 0) this.item.push(chunk.slice(this.itemStart));
    else if (keepFrom >= 0 && this.depth >= 1 && !this.inItems) this.member += chunk.slice(keepFrom);
  }

  private endMember(): void {
    const text = this.member.trim();
    if (this.key !== undefined && text !== '') this.top[this.key] = JSON.parse(text);
    this.key = undefined;
    this.member = '';
  }

  /** Throws when the body ended inside the list. */
  end(): void {
    if (this.depth !== 0 || this.inString) throw new Error('the list body ended before its closing brace');
  }
}
