// Tests run on the TypeScript sources through tsx; the bins run the compiled dist/.
// The spec globs live in package.json's scripts so that `npx mocha --spec FILE` runs just FILE.
module.exports = {
  'node-option': ['import=tsx'],
  reporter: 'test/support/summary-reporter.cjs',
  timeout: 30000,
  exit: true,
};
