// Tests run on the TypeScript sources through tsx; the bins run the compiled dist/.
module.exports = {
  spec: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
  'node-option': ['import=tsx'],
  reporter: 'test/support/summary-reporter.cjs',
  timeout: 30000,
  exit: true,
};
