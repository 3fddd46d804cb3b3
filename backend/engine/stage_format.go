package engine

import (
	"bytes"
	"text/template"

	"github.com/lode-logs/lode/backend/logql"
)

// lineFormatStage is `| line_format "<template>"`: the line becomes the
// rendered template. A failing template keeps the line and sets
// __error__=TemplateFormatErr.
type lineFormatStage struct {
	tmpl *template.Template
	st   templateState
	buf  bytes.Buffer
	out  []byte
}

func newLineFormatStage(text string) (*lineFormatStage, error) {
	s := &lineFormatStage{}
	t, err := newTemplate("line", text, &s.st)
	if err != nil {
		return nil, err
	}
	s.tmpl = t
	return s, nil
}

func (s *lineFormatStage) process(ts int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	s.st.line, s.st.ts = line, ts
	s.buf.Reset()
	if err := s.tmpl.Execute(&s.buf, lb.toMap()); err != nil {
		lb.setErr(errTemplateFormat, err.Error())
		return line, true
	}
	s.out = append(s.out[:0], s.buf.Bytes()...)
	return s.out, true
}

type labelFmt struct {
	dst, src string
	tmpl     *template.Template // nil for a rename
}

// labelFormatStage is `| label_format dst=src, dst2="<template>"`. A rename
// moves src to dst (nothing happens when src is missing); a template sets
// dst and keeps the labels it reads. Templates see the labels as they were
// before the first template of the stage ran.
type labelFormatStage struct {
	fmts []labelFmt
	st   templateState
	buf  bytes.Buffer
}

func newLabelFormatStage(lf *logql.LabelFormat) (*labelFormatStage, error) {
	s := &labelFormatStage{}
	for _, l := range lf.Labels {
		f := labelFmt{dst: l.Dst, src: l.Value}
		if l.IsTemplate {
			t, err := newTemplate("label", l.Value, &s.st)
			if err != nil {
				return nil, err
			}
			f.tmpl = t
		}
		s.fmts = append(s.fmts, f)
	}
	return s, nil
}

func (s *labelFormatStage) process(ts int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	s.st.line, s.st.ts = line, ts
	var data map[string]string
	for _, f := range s.fmts {
		if f.tmpl == nil {
			if v, cat, ok := lb.getCat(f.src); ok {
				if cat == 0 {
					cat = catParsed
				}
				lb.set(cat, f.dst, v)
				if f.src != f.dst {
					lb.delete(f.src)
				}
			}
			continue
		}
		if data == nil {
			data = lb.toMap()
		}
		s.buf.Reset()
		if err := f.tmpl.Execute(&s.buf, data); err != nil {
			lb.setErr(errTemplateFormat, err.Error())
			continue
		}
		lb.set(catParsed, f.dst, s.buf.String())
	}
	return line, true
}
