#!/usr/bin/env node
// Counts the API's doc comments: every symbol exported by a package entry point (each `exports`
// entry of packages/*/package.json) and every public member of Tensor, Module and Optimizer (and
// what they inherit from nowhere else) needs a JSDoc comment with an @example. Prints the totals and
// what lacks one; exits 1 when anything does. test/docs/api_docs.test.ts runs the same check.
//   node scripts/doc-coverage.mjs [--json]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
/** Classes whose public members each need their own documented example. */
export const MEMBER_CLASSES = ['Tensor', 'Module', 'Optimizer'];

/** Every package entry point: [import specifier, source file]. */
export function entryPoints() {
  const out = [];
  for (const d of readdirSync(join(root, 'packages'))) {
    const manifest = join(root, 'packages', d, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, exports } = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const [sub, target] of Object.entries(exports ?? {})) {
      if (typeof target !== 'string' || !target.endsWith('.ts')) continue;
      out.push([sub === '.' ? name : `${name}/${sub.slice(2)}`, join(root, 'packages', d, target)]);
    }
  }
  return out;
}

/** The doc comment of a declaration: its text and whether it has an @example. */
function docOf(decl) {
  const holder = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
  const docs = ts.getJSDocCommentsAndTags(holder).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join(' ').trim();
  const example = docs.some((d) => (d.tags ?? []).some((t) => t.tagName.text === 'example'));
  return { text, example };
}

const isPublic = (decl) => {
  const flags = ts.getCombinedModifierFlags(decl);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  const name = decl.name && ts.isIdentifier(decl.name) ? decl.name.text : decl.name && ts.isPrivateIdentifier(decl.name) ? '#' : '';
  return !name.startsWith('#') && !name.startsWith('_');
};

/** Items checked and those lacking a comment or an example. */
export function docCoverage() {
  const entries = entryPoints();
  const program = ts.createProgram(entries.map(([, f]) => f), {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true, noEmit: true, strict: true, skipLibCheck: true, types: ['node'],
  });
  const checker = program.getTypeChecker();
  const items = []; // { name, where, text, example }
  const seen = new Set();
  const classes = new Map();
  const check = (name, decls) => {
    const docs = decls.map(docOf);
    const decl = decls[0];
    const where = `${program.getSourceFile(decl.getSourceFile().fileName) ? decl.getSourceFile().fileName.replace(root + '/', '') : '?'}:${decl.getSourceFile().getLineAndCharacterOfPosition(decl.getStart()).line + 1}`;
    items.push({ name, where, text: docs.some((d) => d.text !== ''), example: docs.some((d) => d.example) });
  };
  for (const [spec, file] of entries) {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`doc-coverage: cannot read ${file}`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls = (symbol.declarations ?? []).filter((d) => !ts.isExportSpecifier(d));
      if (decls.length === 0 || seen.has(symbol)) continue;
      seen.add(symbol);
      check(`${spec}: ${exported.name}`, decls);
      const cls = decls.find(ts.isClassDeclaration);
      if (cls && MEMBER_CLASSES.includes(exported.name)) classes.set(exported.name, cls);
    }
  }
  for (const [name, cls] of classes) {
    for (const member of cls.members) {
      if (ts.isClassStaticBlockDeclaration(member) || ts.isSemicolonClassElement(member) || !isPublic(member)) continue;
      if (ts.isIndexSignatureDeclaration(member)) continue;
      if (ts.isConstructorDeclaration(member)) {
        if (member.body) check(`${name}.constructor`, [member]);
        for (const p of member.parameters) {
          if (ts.getCombinedModifierFlags(p) & ts.ModifierFlags.ParameterPropertyModifier && isPublic(p)) check(`${name}.${p.name.getText()}`, [p]);
        }
        continue;
      }
      const memberName = member.name?.getText() ?? '?';
      // an overloaded method or a get/set pair counts once, documented if any part is
      const key = `${name}.${memberName}`;
      if (items.some((i) => i.name === key)) {
        const i = items.find((x) => x.name === key);
        const d = docOf(member);
        i.text ||= d.text !== '';
        i.example ||= d.example;
        continue;
      }
      check(key, [member]);
    }
  }
  const missing = items.filter((i) => !i.text || !i.example);
  return { total: items.length, documented: items.length - missing.length, missing };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { total, documented, missing } = docCoverage();
  if (process.argv.includes('--json')) console.log(JSON.stringify({ total, documented, missing }, null, 2));
  else {
    for (const m of missing) console.log(`${m.where}  ${m.name}: ${m.text ? 'no @example' : 'no doc comment'}`);
    console.log(`doc-coverage: ${documented} of ${total} exported symbols and public Tensor/Module/Optimizer members have a doc comment with an @example`);
  }
  process.exit(missing.length ? 1 : 0);
}
