// Package logql owns the LogQL language: a hand-written lexer, a
// recursive-descent parser (precedence climbing for binary operators), the
// AST and its canonical printer. grammar.md documents the accepted grammar.
//
// Main entry points: Parse (any query), ParseLogExpr / ParseSampleExpr (a
// query of one kind), ParseSelector (a bare stream selector). They return
// *ParseError values (errors.Is(err, ErrParse)) whose messages follow Loki's:
// "parse error at line L, col C: syntax error: unexpected X, expecting Y".
//
// Invariants of a parsed tree:
//   - String() of every node prints canonical LogQL that parses back to an
//     Equal tree (tested by table and by FuzzParse).
//   - Every selector has a matcher that does not match the empty string.
//   - Regexps, patterns, json paths, templates and ip() arguments have been
//     checked; range aggregations take, require or refuse unwrap and grouping
//     as Loki does; no BinaryExpr has two LiteralExpr operands (those are
//     folded into one literal at parse time, as Loki does).
//   - Parentheses are not kept: the printer adds them where precedence
//     needs them.
//
// Helpers for the engine and storage: Matchers (all selectors of a query),
// (*LogExpr).Needles (literals every matching line contains, for block
// skipping), Walk (pre-order traversal), Equal (structural comparison),
// FoldScalars (scalar arithmetic as Loki folds it), ParseJSONPath (json
// parameters), ParsePattern (pattern parser and |> filters), ParseIPPattern
// (ip()), ParseDuration/ParseBytes and FormatDuration/FormatBytes (the
// query syntax of durations and byte sizes) and TemplateFuncNames (the functions templates may
// call, which the evaluator must provide).
//
// Goroutine safety: parsing keeps no shared state, so Parse may run
// concurrently. A parsed tree is immutable by convention; callers that need
// to change one must copy it first. Strings in the tree may share memory with
// the query text.
package logql
