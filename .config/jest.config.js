// Jest configuration of the plugin frontend, in the layout of Grafana's create-plugin.
// Tests live next to the code they test (src/**/*.test.ts[x]) and under .config/scripts.
const path = require('path');

// Packages published as ES modules only; everything else in node_modules stays untransformed.
const esModules = ['d3', 'd3-color', 'd3-force', 'd3-interpolate', 'd3-scale-chromatic', 'ol', 'react-colorful', 'uuid', 'marked', '@grafana/lezer-logql', 'react-calendar', 'get-user-locale', 'memoize', 'mimic-function', '@wojtekmaj/date-utils'];

module.exports = {
  rootDir: path.resolve(__dirname, '..'),
  roots: ['<rootDir>/src', '<rootDir>/.config/scripts'],
  testEnvironment: 'jsdom',
  testMatch: ['**/*.test.{ts,tsx,js,cjs}'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'json'],
  setupFilesAfterEnv: ['<rootDir>/.config/jest/setup.js'],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': '<rootDir>/.config/jest/style-mock.js',
    '\\.(svg|png|jpg|jpeg|gif)$': '<rootDir>/.config/jest/file-mock.js',
    '^react-inlinesvg$': '<rootDir>/.config/jest/react-inlinesvg.js',
  },
  // d3-color 3.1.1 and friends ship .mjs files only: transform .mjs as well as TS and JS.
  transform: {
    '^.+\\.(t|j)sx?$|^.+\\.mjs$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'classic' } } } },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esModules.join('|')})/)`],
  testTimeout: 20000,
};
