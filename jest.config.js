/** Jest setup: TypeScript tests under test/, run by ts-jest in a Node environment. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testTimeout: 60000,
};
