// A small, safe parser for the Autodiff panel: scalars, nested-array literals, + − * / ^ @, unary
// minus, .T, and a fixed list of functions. It builds a syntax tree and never evaluates text as code.
//
//   program  := line (('\n' | ';') line)*          the last line (or assignment) is the output
//   line     := name '=' expr | expr
//   expr     := term (('+' | '-') term)*
//   term     := unary (('*' | '/' | '@') unary)*
//   unary    := '-' unary | power
//   power    := postfix ('^' unary)?              right-associative: a^b^c = a^(b^c)
//   postfix  := primary ('.T')*
//   primary  := number | array | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//   array    := '[' (number | array) (',' (number | array))* ']'   (rectangular)

export class ParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
  }
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'matmul';

/** Functions of one tensor (with an optional integer dim for the reductions and softmax). */
export const FUNCTIONS = {
  exp: 1, log: 1, tanh: 1, sigmoid: 1, relu: 1, sin: 1, cos: 1, sqrt: 1, abs: 1, square: 1,
  sum: 2, mean: 2, softmax: 2, logsoftmax: 2, maximum: 2, minimum: 2,
} as const satisfies Record<string, 1 | 2>;
export type FunctionName = keyof typeof FUNCTIONS;

export type Expr = { id: number; text: string } & (
  | { kind: 'literal'; shape: number[]; values: number[] }
  | { kind: 'var'; name: string }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'call'; fn: FunctionName; args: Expr[] }
  | { kind: 'transpose'; arg: Expr }
);

export interface Statement {
  /** null for the final bare expression. */
  name: string | null;
  expr: Expr;
}

export interface Program {
  statements: Statement[];
  /** The expression whose value is the output. */
  output: Expr;
  /** Names given literal values: the leaves that get gradients. */
  leaves: string[];
}

type Token = { kind: 'num' | 'name' | 'op' | 'end' | 'newline'; text: string; line: number; column: number; offset: number };

const MAX_SOURCE = 4000;
const MAX_ELEMENTS = 4096;

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const column = i - lineStart + 1;
    if (c === '\n' || c === ';') {
      tokens.push({ kind: 'newline', text: c, line, column, offset: i });
      if (c === '\n') {
        line++;
        lineStart = i + 1;
      }
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++; // a comment runs to the end of the line
    } else if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i))!;
      tokens.push({ kind: 'num', text: m[0], line, column, offset: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ kind: 'name', text: m[0], line, column, offset: i });
      i += m[0].length;
    } else if (src.startsWith('**', i)) {
      tokens.push({ kind: 'op', text: '^', line, column, offset: i });
      i += 2;
    } else if (src.startsWith('.T', i) && !/[A-Za-z0-9_]/.test(src[i + 2] ?? '')) {
      tokens.push({ kind: 'op', text: '.T', line, column, offset: i });
      i += 2;
    } else if (c === '.') {
      throw new ParseError(`unexpected '.': only .T (transpose) may follow a value`, line, column);
    } else if ('+-*/^@()[],='.includes(c)) {
      tokens.push({ kind: 'op', text: c, line, column, offset: i });
      i++;
    } else {
      throw new ParseError(`unexpected character '${c}'`, line, column);
    }
  }
  tokens.push({ kind: 'end', text: 'end of input', line, column: i - lineStart + 1, offset: i });
  return tokens;
}

/**
 * Parse a program. Throws a ParseError with line and column for anything it does not accept.
 * @example parse('x = 2\ny = 3\nx * y + tanh(x)').leaves // ['x', 'y']
 */
export function parse(src: string): Program {
  if (src.length > MAX_SOURCE) throw new ParseError(`the program is ${src.length} characters; the limit is ${MAX_SOURCE}`, 1, 1);
  const tokens = lex(src);
  let pos = 0;
  let nextId = 0;
  const peek = (): Token => tokens[pos];
  const fail = (msg: string, t: Token = peek()): never => {
    throw new ParseError(msg, t.line, t.column);
  };
  const isOp = (text: string): boolean => peek().kind === 'op' && peek().text === text;
  const expect = (text: string, what: string): Token => {
    if (!isOp(text)) fail(`expected ${what} but found '${peek().text}'`);
    return tokens[pos++];
  };
  const textFrom = (start: Token): string => src.slice(start.offset, tokens[pos - 1].offset + tokens[pos - 1].text.length).trim();
  type Body = Expr extends infer X ? (X extends Expr ? Omit<X, 'id' | 'text'> : never) : never;
  const make = (start: Token, e: Body): Expr => ({ ...e, id: nextId++, text: textFrom(start) }) as Expr;

  const defined = new Set<string>();
  const leaves: string[] = [];

  function arrayLiteral(): { shape: number[]; values: number[] } {
    const open = expect('[', "'['");
    const items: { shape: number[]; values: number[] }[] = [];
    do {
      if (isOp('[')) items.push(arrayLiteral());
      else {
        let sign = 1;
        if (isOp('-')) {
          pos++;
          sign = -1;
        }
        const t = peek();
        if (t.kind !== 'num') fail(`array literals hold numbers only; found '${t.text}'`);
        pos++;
        items.push({ shape: [], values: [sign * Number(t.text)] });
      }
    } while (isOp(',') && ++pos);
    expect(']', "',' or ']'");
    const inner = items[0].shape;
    for (const it of items) {
      if (it.shape.join() !== inner.join()) fail(`ragged array: rows of shape [${inner}] and [${it.shape}]`, open);
    }
    const values = items.flatMap((it) => it.values);
    if (values.length > MAX_ELEMENTS) fail(`an array of ${values.length} numbers is above the limit of ${MAX_ELEMENTS}`, open);
    return { shape: [items.length, ...inner], values };
  }

  function primary(): Expr {
    const t = peek();
    if (t.kind === 'num') {
      pos++;
      return make(t, { kind: 'literal', shape: [], values: [Number(t.text)] });
    }
    if (isOp('[')) {
      const { shape, values } = arrayLiteral();
      return make(t, { kind: 'literal', shape, values });
    }
    if (isOp('(')) {
      pos++;
      const e = expr();
      expect(')', "')'");
      return e;
    }
    if (t.kind === 'name') {
      pos++;
      if (isOp('(')) {
        if (!Object.hasOwn(FUNCTIONS, t.text)) fail(`unknown function '${t.text}' (known: ${Object.keys(FUNCTIONS).join(', ')})`, t);
        const fn = t.text as FunctionName;
        pos++;
        const args = [expr()];
        while (isOp(',')) {
          pos++;
          args.push(expr());
        }
        expect(')', "',' or ')'");
        const binaryFn = fn === 'maximum' || fn === 'minimum';
        if (binaryFn ? args.length !== 2 : args.length > FUNCTIONS[fn]) {
          fail(`${fn} takes ${binaryFn ? 'two arguments' : FUNCTIONS[fn] === 1 ? 'one argument' : 'a tensor and an optional dim'}, got ${args.length}`, t);
        }
        if (!binaryFn && args.length === 2 && !(args[1].kind === 'literal' && args[1].shape.length === 0 && Number.isInteger(args[1].values[0]))) {
          fail(`${fn}'s second argument must be an integer dim, got '${args[1].text}'`, t);
        }
        return make(t, { kind: 'call', fn, args });
      }
      if (!defined.has(t.text)) fail(`'${t.text}' is not defined yet (give it a value on an earlier line, e.g. ${t.text} = 1.5)`, t);
      return make(t, { kind: 'var', name: t.text });
    }
    return fail(`expected a number, a name, '[' or '(' but found '${t.text}'`);
  }

  function postfix(): Expr {
    const start = peek();
    let e = primary();
    while (isOp('.T')) {
      pos++;
      e = make(start, { kind: 'transpose', arg: e });
    }
    return e;
  }

  function power(): Expr {
    const start = peek();
    const base = postfix();
    if (!isOp('^')) return base;
    pos++;
    return make(start, { kind: 'binary', op: 'pow', left: base, right: unary() });
  }

  function unary(): Expr {
    const start = peek();
    if (isOp('-')) {
      pos++;
      const arg = unary();
      // a negative number is a number, not an op on the tape
      if (arg.kind === 'literal') return make(start, { kind: 'literal', shape: arg.shape, values: arg.values.map((v) => -v) });
      return make(start, { kind: 'neg', arg });
    }
    return power();
  }

  function term(): Expr {
    const start = peek();
    let left = unary();
    for (;;) {
      const op = isOp('*') ? 'mul' : isOp('/') ? 'div' : isOp('@') ? 'matmul' : null;
      if (op === null) return left;
      pos++;
      left = make(start, { kind: 'binary', op, left, right: unary() });
    }
  }

  function expr(): Expr {
    const start = peek();
    let left = term();
    for (;;) {
      const op = isOp('+') ? 'add' : isOp('-') ? 'sub' : null;
      if (op === null) return left;
      pos++;
      left = make(start, { kind: 'binary', op, left, right: term() });
    }
  }

  const statements: Statement[] = [];
  const starts: Token[] = [];
  while (peek().kind !== 'end') {
    if (peek().kind === 'newline') {
      pos++;
      continue;
    }
    const t = peek();
    let name: string | null = null;
    if (t.kind === 'name' && tokens[pos + 1].kind === 'op' && tokens[pos + 1].text === '=') {
      if (Object.hasOwn(FUNCTIONS, t.text)) fail(`'${t.text}' names a function; pick another name`, t);
      if (defined.has(t.text)) fail(`'${t.text}' is already defined; each name gets one value`, t);
      name = t.text;
      pos += 2;
    }
    const e = expr();
    if (peek().kind !== 'newline' && peek().kind !== 'end') fail(`expected the end of the line but found '${peek().text}'`);
    if (name !== null) {
      defined.add(name);
      if (e.kind === 'literal') leaves.push(name);
    }
    statements.push({ name, expr: e });
    starts.push(t);
  }
  if (statements.length === 0) fail('the program is empty: write an expression, e.g. x = 2 then tanh(x * x)');
  const last = statements[statements.length - 1];
  statements.slice(0, -1).forEach((s, k) => {
    if (s.name === null) fail(`only the last line may be a bare expression; name this one (e.g. y = ${s.expr.text})`, starts[k]);
  });
  if (leaves.length === 0) fail('nothing to differentiate: give at least one name a number or an array, e.g. x = 0.5');
  return { statements, output: last.expr, leaves };
}
