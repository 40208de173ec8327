// Doc tests: every ```js / ```ts block of README.md runs as written, against
// the built package (dist/, imported as 'resnext' through the package's own
// exports), each in its own Node process. A block preceded by
// `<!-- doctest: skip (reason) -->` is reported as skipped with that reason.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'cjs', 'index.js');
const work = path.join(root, '.tmp', 'doctest');

interface Block {
  line: number;
  lang: string;
  code: string;
  skip: string | null;
}

/** The fenced code blocks of a markdown file, with the skip reason of the comment right before each. */
export function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    let prev = i - 1;
    while (prev >= 0 && lines[prev].trim() === '') prev--;
    const skip = prev >= 0 ? /^<!--\s*doctest:\s*skip\s*\((.+)\)\s*-->$/.exec(lines[prev].trim()) : null;
    out.push({ line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join('\n') + '\n', skip: skip ? skip[1] : null });
    i = end;
  }
  return out;
}

const blocks = codeBlocks(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).filter((b) =>
  ['js', 'javascript', 'ts', 'typescript'].includes(b.lang),
);

describe('codeBlocks', () => {
  it('finds blocks, their languages and skip comments', () => {
    const md = 'x\n<!-- doctest: skip (needs a GPU) -->\n```js\na();\n```\n\n```sh\nls\n```\n```ts\nb();\n```\n';
    expect(codeBlocks(md)).toEqual([
      { line: 3, lang: 'js', code: 'a();\n', skip: 'needs a GPU' },
      { line: 7, lang: 'sh', code: 'ls\n', skip: null },
      { line: 10, lang: 'ts', code: 'b();\n', skip: null },
    ]);
  });
});

describe.skipIf(!fs.existsSync(dist))('README code blocks run as written', () => {
  it('the README has runnable blocks', () => {
    expect(blocks.filter((b) => !b.skip).length).toBeGreaterThanOrEqual(2);
  });

  for (const b of blocks) {
    const name = `block at README.md line ${b.line} (${b.lang})`;
    if (b.skip) {
      it.skip(`${name}: skipped, ${b.skip}`, () => {});
      continue;
    }
    it(
      name,
      () => {
        fs.mkdirSync(work, { recursive: true });
        const isTs = b.lang === 'ts' || b.lang === 'typescript';
        const code = isTs
          ? ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
          : b.code;
        // CommonJS when the block uses require(), else an ES module (top-level await allowed).
        const file = path.join(work, `readme-${b.line}.${/\brequire\(/.test(code) ? 'cjs' : 'mjs'}`);
        fs.writeFileSync(file, code);
        const res = spawnSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 120_000 });
        expect(res.stderr, `stderr of ${name}`).not.toMatch(/Error|RESNEXT_NO_NATIVE/);
        expect(res.status, `${name} failed:\n${res.stderr}`).toBe(0);
      },
      130_000,
    );
  }
});
