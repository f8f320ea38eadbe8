/**
 * Renders deploy/helm/oombot the way `helm template` does, for tests on machines without Helm.
 *
 * It implements exactly the template language the chart uses, with Helm's semantics, and refuses
 * anything else (an unknown function or construct throws, so the chart cannot silently outgrow it):
 *
 * - Go text/template: `{{ }}` actions with `{{-` / `-}}` whitespace trimming, `{{/* comments *\/}}`,
 *   pipelines (`a | f x`: the piped value is the last argument), parenthesised pipelines,
 *   fields of `.` (`.Values.x.y`, `.Release.Name`), `$` and `$var`, string, number and boolean literals,
 *   `if` / `else if` / `else`, `with` (and its `else`), `range` over a list or map (`range $x := ...`,
 *   `range $i, $x := ...`, plain `range`), `$x := ...` declarations, `define`.
 *   Truth is Go's: false, 0, nil, "" and empty lists and maps are false.
 * - Go builtins: and, or (both short-circuit and return an operand), not, eq, printf (%s, %d, %v, %%).
 * - Helm: include, required, toYaml (keys sorted, trailing newline trimmed); `.Release.Name`,
 *   `.Release.Namespace`, `.Release.Service` ("Helm"), `.Chart.*` from Chart.yaml, `.Values` (the chart's
 *   values.yaml deep-merged with overrides). A missing value prints as "" (Helm's missingkey handling).
 * - Sprig: default, quote, nindent, trunc, trimSuffix, list.
 * - Numbers are Go float64s, as Helm reads values: 3000 prints "3000", 1000000 prints "1e+06".
 * - Output: each template's documents (split on `---` like Helm's SplitManifests), files starting with
 *   `_` not output, documents ordered by Helm's install order of kinds, then file path, then position.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

type Value = unknown;
type Dict = Record<string, Value>;

// ---------------------------------------------------------------- lexing and parsing

interface Pos {
  file: string;
  line: number;
}

type Operand =
  | { t: 'field'; chain: string[] } // .a.b (chain [] is the dot itself)
  | { t: 'var'; name: string; chain: string[] } // $ or $x, with optional .a.b
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'bool'; value: boolean }
  | { t: 'nil' }
  | { t: 'ident'; name: string }
  | { t: 'pipe'; pipe: Pipeline; chain: string[] };

interface Command {
  args: Operand[];
}

interface Pipeline {
  decl?: { names: string[]; assign: boolean };
  commands: Command[];
}

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline; pos: Pos }
  | { t: 'if'; branches: { pipe: Pipeline; body: Node[] }[]; otherwise?: Node[]; pos: Pos }
  | { t: 'with'; pipe: Pipeline; body: Node[]; otherwise?: Node[]; pos: Pos }
  | { t: 'range'; pipe: Pipeline; body: Node[]; otherwise?: Node[]; pos: Pos };

interface RawAction {
  body: string;
  pos: Pos;
}

type Piece = { t: 'text'; text: string } | { t: 'action'; action: RawAction };

/** Splits a template into text and actions, applying the trim markers. */
function lex(src: string, file: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  const lineAt = (at: number) => src.slice(0, at).split('\n').length;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open === -1 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open === -1) {
      if (text) pieces.push({ t: 'text', text });
      break;
    }
    let start = open + 2;
    if (/^-[ \t\r\n]/.test(src.slice(start, start + 2))) {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    if (text) pieces.push({ t: 'text', text });
    if (src.startsWith('/*', start)) {
      // {{/* comment */}} or {{- /* comment */ -}}
      const close = src.indexOf('*/', start + 2);
      if (close === -1) throw new Error(`${file}:${lineAt(open)}: unclosed comment`);
      const trim = /^[ \t\r\n]-\}\}/.exec(src.slice(close + 2));
      if (trim) {
        trimNext = true;
        i = close + 2 + trim[0].length;
      } else if (src.startsWith('}}', close + 2)) {
        i = close + 4;
      } else {
        throw new Error(`${file}:${lineAt(open)}: a comment must end with */}}`);
      }
      continue;
    }
    const close = findActionEnd(src, start, file, lineAt(open));
    let body = src.slice(start, close);
    const end = close + 2;
    if (/[ \t\r\n]-$/.test(body)) {
      body = body.slice(0, -2);
      trimNext = true;
    }
    pieces.push({ t: 'action', action: { body: body.trim(), pos: { file, line: lineAt(open) } } });
    i = end;
  }
  return pieces;
}

/** The `}}` closing an action, skipping string literals. */
function findActionEnd(src: string, from: number, file: string, line: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    } else if (c === '`') {
      i = src.indexOf('`', i + 1);
      if (i === -1) break;
    } else if (c === '}' && src[i + 1] === '}') {
      return i;
    }
    i++;
  }
  throw new Error(`${file}:${line}: unclosed action`);
}

type Token = { t: 'str'; v: string } | { t: 'num'; v: number } | { t: 'word'; v: string } | { t: 'punct'; v: string };

function tokenize(body: string, pos: Pos): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${pos.file}:${pos.line}: ${what} in {{ ${body} }}`);
  };
  while (i < body.length) {
    const c = body[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      if (j >= body.length) fail('unterminated string');
      out.push({ t: 'str', v: JSON.parse(body.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = body.indexOf('`', i + 1);
      if (j === -1) fail('unterminated raw string');
      out.push({ t: 'str', v: body.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (body.startsWith(':=', i)) {
      out.push({ t: 'punct', v: ':=' });
      i += 2;
      continue;
    }
    if ('|(),='.includes(c)) {
      out.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(body.slice(i));
    if (num && (c !== '-' || /\d/.test(body[i + 1] ?? ''))) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = /^[$.]?[A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(body.slice(i));
    if (!word || word[0] === '') fail(`unexpected "${c}"`);
    // A lone "." is the dot; "$" alone is the root.
    out.push({ t: 'word', v: word![0] });
    i += word![0].length;
  }
  return out;
}

function parsePipeline(tokens: Token[], pos: Pos, allowDecl: boolean): Pipeline {
  let k = 0;
  const fail = (what: string): never => {
    throw new Error(`${pos.file}:${pos.line}: ${what}`);
  };
  const pipe: Pipeline = { commands: [] };
  // $a := ..., $a, $b := ..., $a = ...
  if (allowDecl) {
    const names: string[] = [];
    let j = 0;
    while (tokens[j]?.t === 'word' && (tokens[j] as { v: string }).v.startsWith('$') && !(tokens[j] as { v: string }).v.includes('.')) {
      names.push((tokens[j] as { v: string }).v);
      j++;
      if (tokens[j]?.t === 'punct' && (tokens[j] as { v: string }).v === ',') {
        j++;
        continue;
      }
      break;
    }
    const op = tokens[j];
    if (names.length > 0 && op?.t === 'punct' && (op.v === ':=' || op.v === '=')) {
      pipe.decl = { names, assign: op.v === '=' };
      k = j + 1;
    }
  }
  const operand = (): Operand => {
    const tok = tokens[k++];
    if (!tok) return fail('missing operand');
    if (tok.t === 'str') return { t: 'string', value: tok.v };
    if (tok.t === 'num') return { t: 'number', value: tok.v };
    if (tok.t === 'punct') {
      if (tok.v !== '(') return fail(`unexpected "${tok.v}"`);
      let depth = 1;
      const start = k;
      while (k < tokens.length && depth > 0) {
        const x = tokens[k++]!;
        if (x.t === 'punct' && x.v === '(') depth++;
        if (x.t === 'punct' && x.v === ')') depth--;
      }
      if (depth !== 0) fail('unbalanced parentheses');
      const inner = parsePipeline(tokens.slice(start, k - 1), pos, false);
      let chain: string[] = [];
      const next = tokens[k];
      if (next?.t === 'word' && next.v.startsWith('.')) {
        chain = next.v.slice(1).split('.');
        k++;
      }
      return { t: 'pipe', pipe: inner, chain };
    }
    const w = tok.v;
    if (w === '.') return { t: 'field', chain: [] };
    if (w.startsWith('.')) return { t: 'field', chain: w.slice(1).split('.') };
    if (w.startsWith('$')) {
      const [name, ...chain] = w.split('.');
      return { t: 'var', name: name!, chain };
    }
    if (w === 'true' || w === 'false') return { t: 'bool', value: w === 'true' };
    if (w === 'nil') return { t: 'nil' };
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(w)) return { t: 'ident', name: w };
    return fail(`cannot parse "${w}"`);
  };
  let cmd: Command = { args: [] };
  while (k < tokens.length) {
    const tok = tokens[k]!;
    if (tok.t === 'punct' && tok.v === '|') {
      if (cmd.args.length === 0) fail('empty command in pipeline');
      pipe.commands.push(cmd);
      cmd = { args: [] };
      k++;
      continue;
    }
    cmd.args.push(operand());
  }
  if (cmd.args.length === 0) fail('empty pipeline');
  pipe.commands.push(cmd);
  return pipe;
}

function parseTemplate(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const pieces = lex(src, file);
  let k = 0;
  const keyword = (a: RawAction): string => /^[a-z]+/.exec(a.body)?.[0] ?? '';
  const pipeOf = (a: RawAction, kw: string, allowDecl: boolean) => parsePipeline(tokenize(a.body.slice(kw.length), a.pos), a.pos, allowDecl);

  /** Parses nodes until one of `stops` (an `else`, `else if` or `end`), which it returns. */
  const parseList = (stops: boolean): { nodes: Node[]; stop?: RawAction } => {
    const nodes: Node[] = [];
    while (k < pieces.length) {
      const p = pieces[k++]!;
      if (p.t === 'text') {
        nodes.push({ t: 'text', text: p.text });
        continue;
      }
      const a = p.action;
      const kw = keyword(a);
      const isKeyword = new RegExp(`^${kw}(\\s|$)`).test(a.body);
      if (isKeyword && (kw === 'end' || kw === 'else')) {
        if (!stops) throw new Error(`${a.pos.file}:${a.pos.line}: unexpected {{ ${a.body} }}`);
        return { nodes, stop: a };
      }
      if (isKeyword && kw === 'if') {
        const branches = [{ pipe: pipeOf(a, 'if', true), body: [] as Node[] }];
        let otherwise: Node[] | undefined;
        let inElse = false;
        for (;;) {
          const r = parseList(true);
          if (!r.stop) throw new Error(`${a.pos.file}:${a.pos.line}: if without end`);
          if (inElse) otherwise = r.nodes;
          else branches[branches.length - 1]!.body = r.nodes;
          if (r.stop.body === 'end') break;
          const rest = r.stop.body.slice('else'.length).trim();
          if (inElse) throw new Error(`${r.stop.pos.file}:${r.stop.pos.line}: {{ ${r.stop.body} }} after else`);
          if (rest === '') inElse = true;
          else if (/^if\s/.test(rest)) branches.push({ pipe: parsePipeline(tokenize(rest.slice(2), r.stop.pos), r.stop.pos, true), body: [] });
          else throw new Error(`${r.stop.pos.file}:${r.stop.pos.line}: not supported: {{ ${r.stop.body} }}`);
        }
        nodes.push({ t: 'if', branches, ...(otherwise ? { otherwise } : {}), pos: a.pos });
        continue;
      }
      if (isKeyword && (kw === 'with' || kw === 'range')) {
        const pipe = pipeOf(a, kw, true);
        const first = parseList(true);
        if (!first.stop) throw new Error(`${a.pos.file}:${a.pos.line}: ${kw} without end`);
        let otherwise: Node[] | undefined;
        if (first.stop.body === 'else') {
          const second = parseList(true);
          if (second.stop?.body !== 'end') throw new Error(`${a.pos.file}:${a.pos.line}: ${kw} ... else without end`);
          otherwise = second.nodes;
        } else if (first.stop.body !== 'end') {
          throw new Error(`${first.stop.pos.file}:${first.stop.pos.line}: not supported: {{ ${first.stop.body} }}`);
        }
        nodes.push({ t: kw, pipe, body: first.nodes, ...(otherwise ? { otherwise } : {}), pos: a.pos });
        continue;
      }
      if (isKeyword && kw === 'define') {
        const name = tokenize(a.body.slice('define'.length), a.pos);
        if (name.length !== 1 || name[0]!.t !== 'str') throw new Error(`${a.pos.file}:${a.pos.line}: define needs one name`);
        const r = parseList(true);
        if (r.stop?.body !== 'end') throw new Error(`${a.pos.file}:${a.pos.line}: define without end`);
        defines.set(name[0]!.v as string, r.nodes);
        continue;
      }
      if (isKeyword && ['template', 'block', 'break', 'continue'].includes(kw)) {
        throw new Error(`${a.pos.file}:${a.pos.line}: not supported by this renderer: {{ ${kw} }}`);
      }
      nodes.push({ t: 'action', pipe: parsePipeline(tokenize(a.body, a.pos), a.pos, true), pos: a.pos });
    }
    return { nodes };
  };
  const r = parseList(false);
  return r.nodes;
}

// ---------------------------------------------------------------- values and printing

const isDict = (v: Value): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's truth: false, 0, nil, "" and empty lists and maps are false. */
export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's %v of a float64 (strconv 'g' with the shortest precision; exponent form from 1e+06 and below 1e-04). */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** Sprig's strval / Go's %v for the scalars the chart prints. */
function strval(v: Value, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) return '';
  throw new Error(`${where}: printing a ${Array.isArray(v) ? 'list' : 'map'} is not supported (use toYaml)`);
}

/** Go's strconv.Quote. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function toYaml(v: Value): string {
  if (v === undefined || v === null) return 'null';
  return stringifyYaml(v, { sortMapEntries: true, indentSeq: false, lineWidth: 0 }).replace(/\n$/, '');
}

/** Helm's and sprig's notion of empty (default, required). */
function empty(v: Value): boolean {
  return !truthy(v);
}

function deepMerge(base: Value, over: Value): Value {
  if (!isDict(base) || !isDict(over)) return over === undefined ? base : over;
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

// ---------------------------------------------------------------- execution

interface Scope {
  vars: Map<string, Value>;
  parent?: Scope;
}

interface Ctx {
  dot: Value;
  scope: Scope;
}

class Renderer {
  constructor(private readonly defines: Map<string, Node[]>) {}

  run(nodes: Node[], data: Value): string {
    const scope: Scope = { vars: new Map([['$', data]]) };
    return this.exec(nodes, { dot: data, scope });
  }

  private lookupVar(scope: Scope, name: string, where: string): Value {
    for (let s: Scope | undefined = scope; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
    throw new Error(`${where}: undefined variable ${name}`);
  }

  private setVar(scope: Scope, name: string, value: Value, assign: boolean, where: string): void {
    if (!assign) {
      scope.vars.set(name, value);
      return;
    }
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, value);
        return;
      }
    }
    throw new Error(`${where}: undefined variable ${name}`);
  }

  private field(v: Value, chain: string[], where: string): Value {
    let cur = v;
    for (const key of chain) {
      if (cur === undefined || cur === null) throw new Error(`${where}: nil pointer evaluating .${key}`);
      if (!isDict(cur)) throw new Error(`${where}: can't evaluate field ${key} in a ${Array.isArray(cur) ? 'list' : typeof cur}`);
      cur = cur[key];
    }
    return cur;
  }

  private operand(o: Operand, ctx: Ctx, where: string): Value {
    switch (o.t) {
      case 'field':
        return this.field(ctx.dot, o.chain, where);
      case 'var':
        return this.field(this.lookupVar(ctx.scope, o.name, where), o.chain, where);
      case 'string':
      case 'number':
      case 'bool':
        return o.value;
      case 'nil':
        return null;
      case 'pipe':
        return this.field(this.pipeline(o.pipe, ctx, where), o.chain, where);
      case 'ident':
        return this.call(o.name, [], undefined, false, ctx, where);
    }
  }

  private pipeline(p: Pipeline, ctx: Ctx, where: string): Value {
    let value: Value;
    let piped = false;
    for (const cmd of p.commands) {
      const [head, ...rest] = cmd.args;
      if (head!.t === 'ident') {
        value = this.call(head!.name, rest, value, piped, ctx, where);
      } else {
        if (rest.length > 0 || piped) throw new Error(`${where}: can't give an argument to a non-function`);
        value = this.operand(head!, ctx, where);
      }
      piped = true;
    }
    if (p.decl) {
      if (p.decl.names.length !== 1) throw new Error(`${where}: only range declares two variables`);
      this.setVar(ctx.scope, p.decl.names[0]!, value, p.decl.assign, where);
    }
    return value;
  }

  private call(name: string, argOps: Operand[], pipedValue: Value, piped: boolean, ctx: Ctx, where: string): Value {
    const lazy = argOps.map((o) => () => this.operand(o, ctx, where));
    if (piped) lazy.push(() => pipedValue);
    const args = () => lazy.map((f) => f());
    const arity = (n: number) => {
      if (lazy.length !== n) throw new Error(`${where}: ${name} takes ${n} argument${n === 1 ? '' : 's'}, got ${lazy.length}`);
    };
    switch (name) {
      case 'and': {
        let v: Value;
        for (const f of lazy) if (!truthy((v = f()))) return v;
        return v;
      }
      case 'or': {
        let v: Value;
        for (const f of lazy) if (truthy((v = f()))) return v;
        return v;
      }
      case 'not':
        arity(1);
        return !truthy(lazy[0]!());
      case 'eq': {
        const [a, ...others] = args();
        if (others.length === 0) throw new Error(`${where}: eq needs two arguments`);
        return others.some((b) => {
          const ta = typeof a;
          const tb = typeof b;
          if (!['string', 'number', 'boolean'].includes(ta) || ta !== tb) throw new Error(`${where}: incompatible types for comparison`);
          return a === b;
        });
      }
      case 'printf': {
        const [format, ...rest] = args();
        if (typeof format !== 'string') throw new Error(`${where}: printf needs a format string`);
        let n = 0;
        return format.replace(/%([%sdv])/g, (_m, verb: string) => {
          if (verb === '%') return '%';
          const v = rest[n++];
          if (verb === 's' && typeof v !== 'string') throw new Error(`${where}: printf %s of a non-string is not supported`);
          if (verb === 'd' && !(typeof v === 'number' && Number.isInteger(v))) throw new Error(`${where}: printf %d of a non-integer`);
          return verb === 'd' ? String(v) : strval(v, where);
        });
      }
      case 'include': {
        arity(2);
        const [tplName, data] = args();
        const body = this.defines.get(String(tplName));
        if (!body) throw new Error(`${where}: no template "${String(tplName)}"`);
        return this.run(body, data);
      }
      case 'required': {
        arity(2);
        const [message, v] = args();
        if (v === undefined || v === null || v === '') throw new Error(`execution error at (${where}): ${String(message)}`);
        return v;
      }
      case 'toYaml':
        arity(1);
        return toYaml(lazy[0]!());
      case 'default': {
        arity(2);
        const [fallback, given] = args();
        return empty(given) ? fallback : given;
      }
      case 'quote':
        return args()
          .filter((v) => v !== undefined && v !== null)
          .map((v) => goQuote(strval(v, where)))
          .join(' ');
      case 'nindent':
      case 'indent': {
        arity(2);
        const [n, s] = args();
        if (typeof n !== 'number') throw new Error(`${where}: ${name} needs a number`);
        const pad = ' '.repeat(n);
        const text = pad + strval(s, where).replace(/\n/g, `\n${pad}`);
        return name === 'nindent' ? `\n${text}` : text;
      }
      case 'trunc': {
        arity(2);
        const [n, s] = args();
        const str = strval(s, where);
        if (typeof n !== 'number') throw new Error(`${where}: trunc needs a number`);
        return n >= 0 && str.length > n ? str.slice(0, n) : n < 0 && str.length + n > 0 ? str.slice(str.length + n) : str;
      }
      case 'trimSuffix': {
        arity(2);
        const [suffix, s] = args();
        const str = strval(s, where);
        const suf = strval(suffix, where);
        return suf && str.endsWith(suf) ? str.slice(0, -suf.length) : str;
      }
      case 'list':
        return args();
      default:
        throw new Error(`${where}: function "${name}" is not supported by this renderer (add it, with Helm's semantics, if the chart needs it)`);
    }
  }

  private child(ctx: Ctx, dot: Value = ctx.dot): Ctx {
    return { dot, scope: { vars: new Map(), parent: ctx.scope } };
  }

  private exec(nodes: Node[], ctx: Ctx): string {
    let out = '';
    for (const n of nodes) {
      if (n.t === 'text') {
        out += n.text;
        continue;
      }
      const where = `${n.pos.file}:${n.pos.line}`;
      if (n.t === 'action') {
        const v = this.pipeline(n.pipe, ctx, where);
        if (!n.pipe.decl) out += strval(v, where);
        continue;
      }
      if (n.t === 'if') {
        const inner = this.child(ctx);
        const branch = n.branches.find((b) => truthy(this.pipeline(b.pipe, inner, where)));
        if (branch) out += this.exec(branch.body, inner);
        else if (n.otherwise) out += this.exec(n.otherwise, inner);
        continue;
      }
      if (n.t === 'with') {
        const inner = this.child(ctx);
        const v = this.pipeline(n.pipe, inner, where);
        if (truthy(v)) out += this.exec(n.body, { ...inner, dot: v });
        else if (n.otherwise) out += this.exec(n.otherwise, inner);
        continue;
      }
      // range
      const decl = n.pipe.decl;
      const source = this.pipeline({ commands: n.pipe.commands }, ctx, where);
      const entries: [Value, Value][] = Array.isArray(source)
        ? source.map((v, i) => [i, v])
        : isDict(source)
          ? Object.keys(source)
              .sort()
              .map((k) => [k, source[k]])
          : source === undefined || source === null
            ? []
            : (() => {
                throw new Error(`${where}: range can't iterate over ${typeof source}`);
              })();
      if (entries.length === 0) {
        if (n.otherwise) out += this.exec(n.otherwise, this.child(ctx));
        continue;
      }
      for (const [key, value] of entries) {
        const inner = this.child(ctx, value);
        if (decl?.names.length === 1) inner.scope.vars.set(decl.names[0]!, value);
        if (decl?.names.length === 2) {
          inner.scope.vars.set(decl.names[0]!, key);
          inner.scope.vars.set(decl.names[1]!, value);
        }
        out += this.exec(n.body, inner);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------- charts

/** Everything this renderer implements; `listTemplateFunctions` must stay within it. */
export const SUPPORTED_CONSTRUCTS = [
  'if', 'else if', 'else', 'end', 'with', 'range', 'define',
  'and', 'or', 'not', 'eq', 'printf', 'include', 'required', 'toYaml', 'default', 'quote', 'nindent', 'indent', 'trunc', 'trimSuffix', 'list',
];


/** Helm's install order of kinds (releaseutil.InstallOrder); unknown kinds go last. */
export const INSTALL_ORDER = [
  'PriorityClass', 'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget',
  'ServiceAccount', 'Secret', 'SecretList', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim',
  'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role',
  'RoleList', 'RoleBinding', 'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet',
  'Deployment', 'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
];

export interface RenderedDocument {
  /** As `helm template` names it: oombot/templates/x.yaml */
  source: string;
  /** The document's text, trimmed, as Helm prints it after its "# Source:" line. */
  text: string;
  kind: string;
}

export interface RenderOptions {
  releaseName: string;
  namespace: string;
  /** Deep-merged over values.yaml, like -f or --set. */
  values?: Dict;
}

/** Renders every template of the chart in `dir` and returns its documents in Helm's order. */
export function renderChart(dir: string, opts: RenderOptions): RenderedDocument[] {
  const chartYaml = parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8'), { version: '1.1' }) as Dict;
  const values = deepMerge(parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8'), { version: '1.1' }) ?? {}, opts.values ?? {});
  const chartName = String(chartYaml.name);
  const chart: Dict = {
    Name: chartName,
    Version: chartYaml.version,
    AppVersion: chartYaml.appVersion,
    Description: chartYaml.description,
    Type: chartYaml.type,
  };
  const data: Dict = {
    Values: values,
    Chart: chart,
    Release: { Name: opts.releaseName, Namespace: opts.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
  };
  const files = readdirSync(join(dir, 'templates')).filter((f) => /\.(ya?ml|tpl)$/.test(f)).sort();
  const defines = new Map<string, Node[]>();
  const parsed: { file: string; nodes: Node[] }[] = [];
  for (const f of files) {
    const source = `${chartName}/templates/${f}`;
    parsed.push({ file: f, nodes: parseTemplate(readFileSync(join(dir, 'templates', f), 'utf8'), source, defines) });
  }
  const renderer = new Renderer(defines);
  const docs: (RenderedDocument & { order: number })[] = [];
  for (const { file, nodes } of parsed) {
    const text = renderer.run(nodes, data);
    if (file.startsWith('_')) continue;
    for (const part of text.trim().split(/(?:^|\s*\n)---\s*/)) {
      const doc = part.trim();
      if (doc === '') continue;
      const head = parseYaml(doc, { version: '1.1' }) as Dict | null;
      const kind = head && typeof head.kind === 'string' ? head.kind : '';
      docs.push({ source: `${chartName}/templates/${file}`, text: doc, kind, order: docs.length });
    }
  }
  const rank = (k: string) => {
    const i = INSTALL_ORDER.indexOf(k);
    return i === -1 ? INSTALL_ORDER.length : i;
  };
  docs.sort((a, b) => rank(a.kind) - rank(b.kind) || (rank(a.kind) === INSTALL_ORDER.length && a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : 0) || a.order - b.order);
  return docs.map(({ source, text, kind }) => ({ source, text, kind }));
}

/** The text `helm template` prints for these documents. */
export function formatHelmOutput(docs: RenderedDocument[]): string {
  return docs.map((d) => `---\n# Source: ${d.source}\n${d.text}\n`).join('');
}

/** Every template construct the chart's files use, for the test that pins the renderer's scope. */
export function listTemplateFunctions(dir: string): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(join(dir, 'templates'))) {
    const src = readFileSync(join(dir, 'templates', f), 'utf8');
    for (const piece of lex(src, f)) {
      if (piece.t !== 'action') continue;
      const body = piece.action.body;
      const kw = /^(if|else if|else|end|with|range|define)\b/.exec(body)?.[1];
      if (kw) names.add(kw);
      for (const tok of tokenize(body.replace(/^(if|else if|else|end|with|range|define)\b/, ''), piece.action.pos)) {
        if (tok.t === 'word' && /^[A-Za-z_]\w*$/.test(tok.v) && !['true', 'false', 'nil'].includes(tok.v)) names.add(tok.v);
      }
    }
  }
  return [...names].sort();
}
