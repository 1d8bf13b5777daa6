// The public API (src/index.ts) is whole: every type a public function, class or type names in its
// signature is exported too, and so is every error class pycage throws, so a library user can name
// what they pass and `instanceof` what they catch. Read with the TypeScript compiler from the sources.
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const sourceRoot = path.join(root, 'src') + path.sep;

let program: ts.Program;
let checker: ts.TypeChecker;
let exported: Set<ts.Symbol>;

const resolve = (symbol: ts.Symbol): ts.Symbol => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
const isPycageSource = (symbol: ts.Symbol): boolean => (symbol.declarations?.[0]?.getSourceFile().fileName ?? '').startsWith(sourceRoot);
const where = (symbol: ts.Symbol): string => `${symbol.name} (${path.relative(root, symbol.declarations?.[0]?.getSourceFile().fileName ?? '')})`;

beforeAll(() => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (config === undefined) throw new Error('tsconfig.json does not parse');
  program = ts.createProgram(config.fileNames, config.options);
  checker = program.getTypeChecker();
  const index = program.getSourceFile(path.join(root, 'src/index.ts'));
  const moduleSymbol = index === undefined ? undefined : checker.getSymbolAtLocation(index);
  if (moduleSymbol === undefined) throw new Error('src/index.ts not found');
  exported = new Set(checker.getExportsOfModule(moduleSymbol).map(resolve));
}, 60_000);

/** Types of pycage's own that the public surface names, and are not exported, with who names them. */
function unexportedTypes(): string[] {
  const found = new Map<string, string>();
  const visited = new Set<ts.Node>();
  const walk = (node: ts.Node, owner: string): void => {
    const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression : undefined;
    const symbol = name === undefined ? undefined : checker.getSymbolAtLocation(name);
    if (symbol !== undefined) {
      const target = resolve(symbol);
      if (isPycageSource(target) && !(target.flags & ts.SymbolFlags.TypeParameter) && !exported.has(target)) {
        if (!found.has(where(target))) found.set(where(target), owner);
        for (const declaration of target.declarations ?? []) surface(declaration, `${owner} > ${target.name}`);
      }
    }
    ts.forEachChild(node, (child) => walk(child, owner));
  };
  // What a user sees of a declaration: parameters and result, public members, declared types.
  const surface = (declaration: ts.Node, owner: string): void => {
    if (visited.has(declaration)) return;
    visited.add(declaration);
    if (ts.isFunctionDeclaration(declaration)) {
      for (const parameter of declaration.parameters) walk(parameter, owner);
      if (declaration.type !== undefined) walk(declaration.type, owner);
    } else if (ts.isClassDeclaration(declaration)) {
      for (const member of declaration.members) {
        if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) continue;
        if (ts.getCombinedModifierFlags(member as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        walk(member, owner);
      }
      for (const clause of declaration.heritageClauses ?? []) walk(clause, owner);
    } else if (ts.isVariableDeclaration(declaration)) {
      if (declaration.type !== undefined) walk(declaration.type, owner);
    } else {
      walk(declaration, owner);
    }
  };
  for (const symbol of exported) for (const declaration of symbol.declarations ?? []) surface(declaration, symbol.name);
  return [...found].map(([type, owner]) => `${type} <- ${owner}`).sort();
}

/** Every class in src/ that derives from PycageError. */
function errorClasses(): ts.Symbol[] {
  const classes: ts.Symbol[] = [];
  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(sourceRoot)) continue;
    for (const statement of file.statements) {
      if (!ts.isClassDeclaration(statement) || statement.name === undefined) continue;
      const symbol = checker.getSymbolAtLocation(statement.name);
      if (symbol === undefined) continue;
      const bases = (type: ts.Type): string[] => (type.isClass() ? checker.getBaseTypes(type as ts.InterfaceType).flatMap((base) => [base.symbol.name, ...bases(base)]) : []);
      if (bases(checker.getDeclaredTypeOfSymbol(symbol)).includes('PycageError')) classes.push(symbol);
    }
  }
  return classes;
}

describe('the public API', () => {
  it('exports every type its functions, classes and types name', () => {
    expect(unexportedTypes()).toEqual([]);
  });

  it('exports every error class pycage throws', () => {
    const classes = errorClasses();
    expect(classes.map((symbol) => symbol.name)).toContain('InstallError');
    expect(classes.filter((symbol) => !exported.has(symbol)).map(where)).toEqual([]);
  });
});
