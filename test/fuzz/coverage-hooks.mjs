// Module load hook (node:module register) that compiles berth's own sources (src/**/*.ts) with
// TypeScript plus an edge-counter pass, for the coverage-guided fuzzer (test/fuzz/engine.ts).
//
// Why our own instrumentation: Jazzer.js 4.0.0's prebuilt libFuzzer addon needs glibc 2.38 (Debian 12
// has 2.36) and its older releases download their addon from github.com at install time; jsfuzz hooks
// require() only, and berth is ES modules (docs/fuzzing.md). The pass below gives the same kind of
// signal libFuzzer's -fsanitize-coverage=trace-pc-guard does: one 8-bit counter per basic-block edge.
//
// Counters: every block, both arms of `if` (an absent else gets one), each `case`, both arms of
// `?:`, the right side of `&&`/`||`/`??`, and every arrow function's expression body. They live in one
// Uint8Array per thread, globalThis.__bfzCov; globalThis.__bfzHigh is one past the highest index of
// any module loaded, so the engine scans only the part in use; globalThis.__bfzFiles lists each
// module's [path, first, end) counter range.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = new URL('../../src/', import.meta.url).href;
const CAPACITY = 1 << 17;
let next = 0;

function instrument(sourceText, fileName) {
  const factory = ts.factory;
  const counter = () => {
    const id = next++ % CAPACITY;
    return factory.createPostfixIncrement(
      factory.createElementAccessExpression(factory.createIdentifier('__bfzC'), factory.createNumericLiteral(id)),
    );
  };
  const counted = (expr) => factory.createParenthesizedExpression(factory.createComma(counter(), expr));
  const block = (stmt) =>
    ts.isBlock(stmt) ? stmt : factory.createBlock([factory.createExpressionStatement(counter()), stmt], true);

  const transformer = (context) => {
    const visit = (node) => {
      node = ts.visitEachChild(node, visit, context);
      if (ts.isBlock(node)) {
        return factory.updateBlock(node, [factory.createExpressionStatement(counter()), ...node.statements]);
      }
      if (ts.isIfStatement(node)) {
        const elseStmt =
          node.elseStatement === undefined
            ? factory.createBlock([factory.createExpressionStatement(counter())], true)
            : ts.isIfStatement(node.elseStatement)
              ? node.elseStatement
              : block(node.elseStatement);
        return factory.updateIfStatement(node, node.expression, block(node.thenStatement), elseStmt);
      }
      if (ts.isCaseClause(node) || ts.isDefaultClause(node)) {
        const body = [factory.createExpressionStatement(counter()), ...node.statements];
        return ts.isCaseClause(node) ? factory.updateCaseClause(node, node.expression, body) : factory.updateDefaultClause(node, body);
      }
      if (ts.isConditionalExpression(node)) {
        return factory.updateConditionalExpression(node, node.condition, node.questionToken, counted(node.whenTrue), node.colonToken, counted(node.whenFalse));
      }
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) {
          return factory.updateBinaryExpression(node, node.left, node.operatorToken, counted(node.right));
        }
      }
      if (ts.isArrowFunction(node) && !ts.isBlock(node.body)) {
        return factory.updateArrowFunction(node, node.modifiers, node.typeParameters, node.parameters, node.type, node.equalsGreaterThanToken, counted(node.body));
      }
      if ((ts.isForStatement(node) || ts.isForOfStatement(node) || ts.isForInStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) && !ts.isBlock(node.statement)) {
        if (ts.isForStatement(node)) return factory.updateForStatement(node, node.initializer, node.condition, node.incrementor, block(node.statement));
        if (ts.isForOfStatement(node)) return factory.updateForOfStatement(node, node.awaitModifier, node.initializer, node.expression, block(node.statement));
        if (ts.isForInStatement(node)) return factory.updateForInStatement(node, node.initializer, node.expression, block(node.statement));
        if (ts.isWhileStatement(node)) return factory.updateWhileStatement(node, node.expression, block(node.statement));
        return factory.updateDoStatement(node, block(node.statement), node.expression);
      }
      return node;
    };
    return (sf) => {
      const first = next;
      const body = ts.visitEachChild(sf, visit, context);
      // `var`, first: module code that runs before the rest of the module's statements still finds it.
      const prelude = ts.factory.createVariableStatement(
        undefined,
        factory.createVariableDeclarationList(
          [factory.createVariableDeclaration('__bfzC', undefined, undefined, ts.factory.createIdentifier(`(globalThis.__bfzCov ??= new Uint8Array(${CAPACITY}))`))],
          ts.NodeFlags.None,
        ),
      );
      const high = factory.createExpressionStatement(
        factory.createIdentifier(`globalThis.__bfzHigh = Math.max(globalThis.__bfzHigh ?? 0, ${Math.min(next, CAPACITY)}); (globalThis.__bfzFiles ??= []).push([${JSON.stringify(fileName)}, ${first}, ${next}])`),
      );
      return factory.updateSourceFile(body, [prelude, high, ...body.statements]);
    };
  };

  const out = ts.transpileModule(sourceText, {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2023,
      verbatimModuleSyntax: true,
      allowImportingTsExtensions: true,
      sourceMap: false,
      inlineSourceMap: false,
    },
    transformers: { before: [transformer] },
  });
  return out.outputText;
}

export async function load(url, context, nextLoad) {
  if (url.startsWith(SRC) && url.endsWith('.ts')) {
    const path = fileURLToPath(url);
    const text = await readFile(path, 'utf8');
    return { format: 'module', source: instrument(text, path), shortCircuit: true };
  }
  return nextLoad(url, context);
}
