// Production and development builds of the plugin frontend, in the shape Grafana's create-plugin
// produces: one AMD module (dist/module.js) with Grafana's shared libraries left external, plus
// the files Grafana reads from the plugin folder (plugin.json, README.md, img/).
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const root = path.resolve(__dirname, '..');
const pluginJson = require(path.join(root, 'plugin.json'));

// Libraries Grafana provides to plugins at run time; bundling them would break the plugin.
const externals = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'rxjs/operators',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  /^@grafana\/i18n/i,
  // monaco-editor is never bundled: the editor receives Grafana's instance at mount time.
  /^monaco-editor/,
  ({ request }, callback) => {
    const prefix = 'grafana/';
    if (request && request.startsWith(prefix)) {
      return callback(undefined, request.slice(prefix.length));
    }
    return callback();
  },
];

module.exports = (env = {}) => {
  const production = Boolean(env.production);
  return {
    mode: production ? 'production' : 'development',
    context: path.join(root, 'src'),
    entry: { module: './module.ts' },
    devtool: production ? 'source-map' : 'eval-source-map',
    externals,
    output: {
      path: path.join(root, 'dist'),
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
      // The plugin backend build puts gpx_lode_* binaries into dist/ too: keep them.
      clean: { keep: /^gpx_/ },
    },
    resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx', '.mjs', '.cjs'] },
    module: {
      rules: [
        {
          test: /\.[tj]sx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                target: 'es2018',
                parser: { syntax: 'typescript', tsx: true },
                transform: { react: { runtime: 'classic' } },
              },
            },
          },
        },
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
      ],
    },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: path.join(root, 'plugin.json'), to: 'plugin.json' },
          { from: 'README.md', to: 'README.md' },
          { from: 'img', to: 'img' },
        ],
      }),
    ],
    performance: { hints: false },
    stats: production ? 'normal' : 'minimal',
  };
};
