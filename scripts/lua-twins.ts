/**
 * Generates the Lua twins of TypeScript rules: every export of a module whose doc comment carries
 * `@lua` becomes a Lua local of the same name, so that a rule both backends apply is written once,
 * in TypeScript (see the header of src/transitions.ts for what a `@lua` export may contain).
 *
 * - a constant becomes `local NAME = <value>`: its runtime value (so a computed one, like a digest,
 *   is generated as computed), a number, a string, or plain data as its JSON text;
 * - a function whose body is one `return <expression>` becomes `local function name(params)`, its
 *   expression translated: `===`/`!==`/`&&`/`||`/`!` to `==`/`~=`/`and`/`or`/`not`, `c ? a : b` to
 *   `c and a or b` (safe: `a` is never false or nil), template literals and object literals to string
 *   concatenations (an object literal becomes its JSON text, keys in source order as JSON.stringify
 *   writes them; numbers through `S`, the integer formatter of includes/S.lua).
 *
 * Strings spliced into JSON must not need escaping: string literals are escaped here, and template
 * literals and string constants are only accepted there when their text needs no escaping; a string
 * parameter (whose text nobody knows here) is refused there.
 */
import ts from 'typescript';

/** A `@lua` export the generator cannot translate, with the place it was found. */
export class LuaTwinError extends Error {
  override name = 'LuaTwinError';
}

/** What a translated expression holds in Lua. `text` is a string that needs no JSON escaping;
 * `raw` a string that might; `json` a string of JSON text. */
type Kind = 'number' | 'boolean' | 'text' | 'raw' | 'json';

interface Lua {
  readonly code: string;
  readonly kind: Kind;
  /** Lua operator precedence of the outermost operator (9 = an atom). */
  readonly prec: number;
}

const ATOM = 9;
const CONCAT = 4;
const LUA_KEYWORDS = new Set(
  'and break do else elseif end false for function if in local nil not or repeat return then true until while'.split(
    ' ',
  ),
);

const BINARY: Partial<
  Record<ts.SyntaxKind, { lua: string; prec: number; operands: Kind | 'any'; kind: Kind }>
> = {
  [ts.SyntaxKind.BarBarToken]: { lua: 'or', prec: 1, operands: 'boolean', kind: 'boolean' },
  [ts.SyntaxKind.AmpersandAmpersandToken]: { lua: 'and', prec: 2, operands: 'boolean', kind: 'boolean' },
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: { lua: '==', prec: 3, operands: 'any', kind: 'boolean' },
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: { lua: '~=', prec: 3, operands: 'any', kind: 'boolean' },
  [ts.SyntaxKind.LessThanToken]: { lua: '<', prec: 3, operands: 'number', kind: 'boolean' },
  [ts.SyntaxKind.LessThanEqualsToken]: { lua: '<=', prec: 3, operands: 'number', kind: 'boolean' },
  [ts.SyntaxKind.GreaterThanToken]: { lua: '>', prec: 3, operands: 'number', kind: 'boolean' },
  [ts.SyntaxKind.GreaterThanEqualsToken]: { lua: '>=', prec: 3, operands: 'number', kind: 'boolean' },
  [ts.SyntaxKind.PlusToken]: { lua: '+', prec: 5, operands: 'number', kind: 'number' },
  [ts.SyntaxKind.MinusToken]: { lua: '-', prec: 5, operands: 'number', kind: 'number' },
  [ts.SyntaxKind.AsteriskToken]: { lua: '*', prec: 6, operands: 'number', kind: 'number' },
};

/** A Lua string literal whose value is exactly `s`. */
export function luaString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (c < 32 || c === 127) out += `\\${String(c).padStart(3, '0')}`;
    else out += ch;
  }
  return out + "'";
}

/** True when JSON.stringify would write `s` between quotes unchanged. */
function jsonSafe(s: string): boolean {
  return JSON.stringify(s) === `"${s}"`;
}

/** A piece of a concatenation: literal text, or Lua code that yields text. */
type Piece = { readonly lit: string } | { readonly code: Lua };

function concat(pieces: readonly Piece[], kind: Kind): Lua {
  const merged: Piece[] = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if ('lit' in p && last && 'lit' in last) merged[merged.length - 1] = { lit: last.lit + p.lit };
    else if (!('lit' in p && p.lit === '')) merged.push(p);
  }
  if (merged.length === 0) return { code: "''", kind, prec: ATOM };
  const parts = merged.map((p) => ('lit' in p ? luaString(p.lit) : wrap(p.code, CONCAT + 1)));
  return { code: parts.join(' .. '), kind, prec: merged.length === 1 ? ATOM : CONCAT };
}

function wrap(e: Lua, minPrec: number): string {
  return e.prec < minPrec ? `(${e.code})` : e.code;
}

interface Scope {
  readonly file: ts.SourceFile;
  /** Names usable in an expression: earlier `@lua` constants, and the function's parameters. */
  readonly names: ReadonlyMap<string, Kind>;
  /** Earlier `@lua` functions: parameter kinds and result kind. */
  readonly functions: ReadonlyMap<string, { params: Kind[]; result: Kind }>;
  usesS: boolean;
}

function fail(scope: Scope, node: ts.Node, what: string): never {
  const { line } = scope.file.getLineAndCharacterOfPosition(node.getStart(scope.file));
  throw new LuaTwinError(`${scope.file.fileName}:${line + 1}: ${what}: \`${node.getText(scope.file)}\``);
}

function numberText(scope: Scope, e: Lua): Lua {
  scope.usesS = true;
  return { code: `S(${e.code})`, kind: 'text', prec: ATOM };
}

/** The pieces of JSON text that `node` (a value inside an object literal) stands for. */
function jsonPieces(scope: Scope, node: ts.Expression): Piece[] {
  if (ts.isParenthesizedExpression(node)) return jsonPieces(scope, node.expression);
  if (ts.isObjectLiteralExpression(node)) {
    const pieces: Piece[] = [{ lit: '{' }];
    node.properties.forEach((p, i) => {
      let key: string;
      let value: ts.Expression;
      if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
        key = p.name.text;
        value = p.initializer;
      } else if (ts.isShorthandPropertyAssignment(p)) {
        key = p.name.text;
        value = p.name;
      } else {
        fail(scope, p, 'only `key: value` and `key` properties are translated');
      }
      pieces.push({ lit: `${i > 0 ? ',' : ''}${JSON.stringify(key)}:` }, ...jsonPieces(scope, value));
    });
    pieces.push({ lit: '}' });
    return pieces;
  }
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
    return [{ lit: JSON.stringify(node.text) }];
  }
  if (ts.isNumericLiteral(node)) return [{ lit: String(Number(node.text.replaceAll('_', ''))) }];
  if (node.kind === ts.SyntaxKind.TrueKeyword || node.kind === ts.SyntaxKind.FalseKeyword) {
    return [{ lit: node.getText(scope.file) }];
  }
  const e = expression(scope, node);
  switch (e.kind) {
    case 'number':
      return [{ code: numberText(scope, e) }];
    case 'text':
      return [{ lit: '"' }, { code: e }, { lit: '"' }];
    case 'json':
      return [{ code: e }];
    default:
      fail(
        scope,
        node,
        `a ${e.kind === 'raw' ? 'string that may need JSON escaping' : e.kind} cannot be a JSON value`,
      );
  }
}

function expression(scope: Scope, node: ts.Expression): Lua {
  if (ts.isParenthesizedExpression(node)) return expression(scope, node.expression);
  if (ts.isNumericLiteral(node)) {
    return { code: String(Number(node.text.replaceAll('_', ''))), kind: 'number', prec: ATOM };
  }
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
    return { code: luaString(node.text), kind: jsonSafe(node.text) ? 'text' : 'raw', prec: ATOM };
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword || node.kind === ts.SyntaxKind.FalseKeyword) {
    return { code: node.getText(scope.file), kind: 'boolean', prec: ATOM };
  }
  if (ts.isIdentifier(node)) {
    const kind = scope.names.get(node.text);
    if (!kind) fail(scope, node, 'not a parameter nor an earlier `@lua` constant');
    return { code: node.text, kind, prec: ATOM };
  }
  if (ts.isTemplateExpression(node)) {
    const pieces: Piece[] = [{ lit: node.head.text }];
    let safe = jsonSafe(node.head.text);
    for (const span of node.templateSpans) {
      const e = expression(scope, span.expression);
      if (e.kind === 'number') pieces.push({ code: numberText(scope, e) });
      else if (e.kind === 'text') pieces.push({ code: e });
      else fail(scope, span.expression, 'a template substitution must be a number or an escape-free text');
      pieces.push({ lit: span.literal.text });
      safe &&= jsonSafe(span.literal.text);
    }
    return concat(pieces, safe ? 'text' : 'raw');
  }
  if (ts.isObjectLiteralExpression(node)) return concat(jsonPieces(scope, node), 'json');
  if (ts.isPrefixUnaryExpression(node)) {
    const e = expression(scope, node.operand);
    if (node.operator === ts.SyntaxKind.ExclamationToken && e.kind === 'boolean') {
      return { code: `not ${wrap(e, 7)}`, kind: 'boolean', prec: 7 };
    }
    if (node.operator === ts.SyntaxKind.MinusToken && e.kind === 'number') {
      return { code: `-${wrap(e, 7)}`, kind: 'number', prec: 7 };
    }
    fail(scope, node, 'only `!` of a boolean and `-` of a number are translated');
  }
  if (ts.isBinaryExpression(node)) {
    const op = BINARY[node.operatorToken.kind];
    if (!op) fail(scope, node.operatorToken, 'operator not translated');
    const a = expression(scope, node.left);
    const b = expression(scope, node.right);
    if (op.operands !== 'any' && (a.kind !== op.operands || b.kind !== op.operands)) {
      fail(
        scope,
        node,
        `\`${node.operatorToken.getText(scope.file)}\` is translated for ${op.operands} operands only`,
      );
    }
    // Left-associative: a right operand of the same precedence keeps its parentheses.
    return { code: `${wrap(a, op.prec)} ${op.lua} ${wrap(b, op.prec + 1)}`, kind: op.kind, prec: op.prec };
  }
  if (ts.isConditionalExpression(node)) {
    const c = expression(scope, node.condition);
    const a = expression(scope, node.whenTrue);
    const b = expression(scope, node.whenFalse);
    if (c.kind !== 'boolean') fail(scope, node.condition, 'a condition must be a boolean');
    // `c and a or b` is `c ? a : b` only while `a` is never false or nil: so no booleans.
    if (a.kind === 'boolean' || a.kind !== b.kind) {
      fail(scope, node, 'both branches must be of one kind, and not booleans');
    }
    return { code: `${wrap(c, 3)} and ${wrap(a, 3)} or ${wrap(b, 2)}`, kind: a.kind, prec: 1 };
  }
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
    const fn = scope.functions.get(node.expression.text);
    if (!fn) fail(scope, node.expression, 'only earlier `@lua` functions can be called');
    if (node.arguments.length !== fn.params.length) fail(scope, node, 'wrong number of arguments');
    const args = node.arguments.map((arg, i) => {
      const e = expression(scope, arg);
      const want = fn.params[i]!;
      if (want !== e.kind && !(want === 'raw' && e.kind === 'text')) fail(scope, arg, `expected a ${want}`);
      return e.code;
    });
    return { code: `${node.expression.text}(${args.join(', ')})`, kind: fn.result, prec: ATOM };
  }
  fail(scope, node, 'expression not translated');
}

function paramKind(scope: Scope, p: ts.ParameterDeclaration): Kind {
  const t = p.type;
  if (!ts.isIdentifier(p.name) || p.initializer || p.dotDotDotToken || !t) {
    fail(scope, p, 'a parameter must be a plain name with a type');
  }
  if (LUA_KEYWORDS.has(p.name.text)) fail(scope, p, 'a Lua keyword cannot be a parameter name');
  if (t.kind === ts.SyntaxKind.NumberKeyword) return 'number';
  if (t.kind === ts.SyntaxKind.BooleanKeyword) return 'boolean';
  if (t.kind === ts.SyntaxKind.StringKeyword) return 'raw';
  fail(scope, t, 'a parameter type must be number, boolean or string');
}

function valueKind(value: unknown): Kind {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return jsonSafe(value) ? 'text' : 'raw';
  return 'json';
}

function luaValue(scope: Scope, node: ts.Node, value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail(scope, node, 'a number constant must be a whole number');
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (value === null || typeof value !== 'object') {
    fail(scope, node, 'a constant must be a number, string or JSON data');
  }
  return luaString(JSON.stringify(value));
}

function hasLuaTag(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'lua');
}

/** The doc comment of a declaration as Lua comment lines (the `@lua` tag dropped). */
function luaComment(node: ts.Node): string[] {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const lines: string[] = [];
  for (const d of docs) {
    const tagText = (d.tags ?? []).map((t) => ts.getTextOfJSDocComment(t.comment) ?? '').join(' ');
    const text = [ts.getTextOfJSDocComment(d.comment) ?? '', tagText].join(' ');
    const flat = text
      .replace(/\{@link ([^}]+)\}/g, '$1')
      .replace(/\s+/g, ' ')
      .trim();
    if (flat) lines.push(...wrapWords(flat, 96).map((l) => `-- ${l}`));
  }
  return lines;
}

function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The Lua twins of the `@lua` exports of one module. `sourceText` is the module's TypeScript,
 * `values` its runtime exports (the constants are generated from these), `from` the path named in
 * the header. Returns the Lua text, or '' when the module has no `@lua` export.
 */
export function luaTwins(
  fileName: string,
  sourceText: string,
  values: Record<string, unknown>,
  header: string,
): string {
  const file = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.ES2022, true);
  const names = new Map<string, Kind>();
  const functions = new Map<string, { params: Kind[]; result: Kind }>();
  const scope: Scope = { file, names, functions, usesS: false };
  const body: string[] = [];
  const exported = (s: ts.Statement): boolean =>
    ts.canHaveModifiers(s) && (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement) && exported(statement) && hasLuaTag(statement)) {
      for (const decl of statement.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name)) fail(scope, decl, 'a `@lua` constant must be a plain name');
        const name = decl.name.text;
        if (!(name in values)) fail(scope, decl, "not found among the module's runtime exports");
        body.push(...luaComment(statement), `local ${name} = ${luaValue(scope, decl, values[name])}`, '');
        names.set(name, valueKind(values[name]));
      }
    } else if (ts.isFunctionDeclaration(statement) && exported(statement) && hasLuaTag(statement)) {
      const name = statement.name?.text;
      if (!name) fail(scope, statement, 'a `@lua` function needs a name');
      const ret = statement.body?.statements;
      const only = ret?.length === 1 ? ret[0] : undefined;
      if (!only || !ts.isReturnStatement(only) || !only.expression) {
        fail(scope, statement, 'a `@lua` function body must be a single `return <expression>`');
      }
      const params = statement.parameters.map((p) => paramKind(scope, p));
      const paramNames = statement.parameters.map((p) => (p.name as ts.Identifier).text);
      const inner: Scope = {
        ...scope,
        names: new Map([...names, ...paramNames.map((n, i) => [n, params[i]!] as const)]),
        usesS: false,
      };
      const e = expression(inner, only.expression);
      scope.usesS ||= inner.usesS;
      functions.set(name, { params, result: e.kind });
      body.push(
        ...luaComment(statement),
        `local function ${name}(${paramNames.join(', ')})`,
        `  return ${e.code}`,
        'end',
        '',
      );
    }
  }
  if (body.length === 0) return '';
  const head = header.split('\n').map((l) => `-- ${l}`);
  if (scope.usesS) head.push('--- @include "includes/S"');
  return [...head, '', ...body].join('\n').trimEnd();
}
