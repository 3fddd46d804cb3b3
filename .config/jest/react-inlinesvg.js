// Icons are fetched as SVG files at run time in Grafana; in tests they render as empty svgs.
const React = require('react');

function InlineSVG({ src, innerRef, cacheRequests, preProcessor, ...rest }) {
  return React.createElement('svg', { id: src, ref: innerRef, ...rest });
}

module.exports = InlineSVG;
module.exports.default = InlineSVG;
