package policy

import (
	"strings"
	"unicode/utf8"
)

// A pattern is an IAM string compiled once at Parse time: literal runs,
// the wildcards * and ?, and policy variables resolved per request.
// Matching walks the tokens with the classic single-backtrack glob
// algorithm (linear in practice, no regexp, no allocation).
type pattern struct {
	toks  []token
	exact string // set when toks is one literal (or empty): plain comparison
	isLit bool
	any   bool // the pattern is "*"
	vars  bool
}

type tokKind uint8

const (
	tokLit tokKind = iota
	tokStar
	tokQuest
	tokVar
)

type token struct {
	kind   tokKind
	lit    string // tokLit: the text; tokVar: the default value
	key    string // tokVar: lower-cased context key
	hasDef bool
}

// compile turns s into a pattern. wild makes * and ? wildcards (StringLike,
// Action, Resource); vars enables ${...} policy variables (Version
// 2012-10-17 only, and only where IAM allows them).
func compile(s string, wild, vars bool) pattern {
	var toks []token
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tokLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 { // no closing brace: the rest is literal text
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			body := s[i+2 : i+2+end]
			i += end + 3
			switch body {
			case "*", "?", "$": // ${*} ${?} ${$}: the literal character
				lit.WriteString(body)
				continue
			}
			flush()
			toks = append(toks, parseVariable(body))
		case wild && c == '*':
			flush()
			if n := len(toks); n == 0 || toks[n-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
			i++
		case wild && c == '?':
			flush()
			toks = append(toks, token{kind: tokQuest})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	p := pattern{toks: toks}
	switch {
	case len(toks) == 0:
		p.isLit = true
	case len(toks) == 1 && toks[0].kind == tokLit:
		p.isLit, p.exact = true, toks[0].lit
	case len(toks) == 1 && toks[0].kind == tokStar:
		p.any = true
	}
	for _, t := range toks {
		if t.kind == tokVar {
			p.vars = true
		}
	}
	return p
}

// parseVariable reads the inside of ${...}: a context key, optionally
// followed by a default value, ${aws:username, 'anonymous'}.
func parseVariable(body string) token {
	t := token{kind: tokVar}
	name := body
	if i := strings.IndexByte(body, ','); i >= 0 {
		name = body[:i]
		def := strings.TrimSpace(body[i+1:])
		if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
			t.lit, t.hasDef = def[1:len(def)-1], true
		}
	}
	t.key = lower(strings.TrimSpace(name))
	return t
}

// value resolves a variable token; ok is false when the key is absent or
// multivalued and no default is given (IAM: such a variable never matches).
func (t *token) value(r *evalCtx) (string, bool) {
	if r != nil {
		if v, ok := r.variable(t.key); ok {
			return v, true
		}
	}
	return t.lit, t.hasDef
}

// match reports whether s matches p. resolved is false when a variable in p
// could not be resolved; matched is then false too. fold compares
// case-insensitively (actions, StringEqualsIgnoreCase).
func (p *pattern) match(s string, fold bool, r *evalCtx) (matched, resolved bool) {
	if p.any {
		return true, true
	}
	if p.isLit {
		return equal(s, p.exact, fold), true
	}
	if p.vars {
		for i := range p.toks {
			if p.toks[i].kind == tokVar {
				if _, ok := p.toks[i].value(r); !ok {
					return false, false
				}
			}
		}
	}
	return p.glob(s, fold, r), true
}

func (p *pattern) glob(s string, fold bool, r *evalCtx) bool {
	toks := p.toks
	ti, si := 0, 0
	star, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tokStar:
				star, starSi = ti, si
				ti++
				continue
			case tokQuest:
				if si < len(s) {
					_, w := utf8.DecodeRuneInString(s[si:])
					si += w
					ti++
					continue
				}
			default:
				lit := t.lit
				if t.kind == tokVar {
					lit, _ = t.value(r)
				}
				if hasPrefix(s[si:], lit, fold) {
					si += len(lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star swallow one more character.
		if star < 0 || starSi >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starSi:])
		starSi += w
		ti, si = star+1, starSi
	}
}

// resolvedText returns p with variables substituted and wildcards dropped:
// the operand of a non-wildcard comparison (Bool) after substitution.
func (p *pattern) resolvedText(r *evalCtx) (string, bool) {
	if p.isLit {
		return p.exact, true
	}
	var b strings.Builder
	for i := range p.toks {
		t := &p.toks[i]
		switch t.kind {
		case tokLit:
			b.WriteString(t.lit)
		case tokStar:
			b.WriteByte('*')
		case tokQuest:
			b.WriteByte('?')
		case tokVar:
			v, ok := t.value(r)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// arnPattern matches ARNs segment by segment: partition, service, region
// and account are each matched on their own (a wildcard there does not
// cross a colon), the resource part after the fifth colon is matched
// whole, so a wildcard in it spans ':' and '/'. IAM documents wildcards
// "within any ARN segment (the parts separated by colons)"; the resource
// part may itself contain colons, which is why it is one segment here.
type arnPattern struct {
	any    bool
	fields []pattern // 1..6; the last one matches the rest of the ARN
}

const arnFields = 6

func compileARN(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true}
	}
	// Split on the first five colons outside ${...}: variables such as
	// ${aws:username} contain colons of their own.
	var fields []pattern
	start, depth := 0, 0
	for i := 0; i < len(s) && len(fields) < arnFields-1; i++ {
		switch {
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
		case depth > 0 && s[i] == '}':
			depth--
		case depth == 0 && s[i] == ':':
			fields = append(fields, compile(s[start:i], true, vars))
			start = i + 1
		}
	}
	fields = append(fields, compile(s[start:], true, vars))
	return arnPattern{fields: fields}
}

// match reports whether arn matches. A pattern with fewer than six
// segments lets its last segment match the rest of the ARN ("arn:aws:ecr:*"
// covers every ECR ARN); a value with fewer segments than the pattern
// (such as the non-ARN resource "*") does not match.
func (a *arnPattern) match(arn string, r *evalCtx) (matched, resolved bool) {
	if a.any {
		return true, true
	}
	n := len(a.fields)
	rest := arn
	for i := 0; i < n-1; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return false, a.resolvable(r)
		}
		m, ok := a.fields[i].match(rest[:j], false, r)
		if !ok {
			return false, false
		}
		if !m {
			return false, a.resolvable(r)
		}
		rest = rest[j+1:]
	}
	return a.fields[n-1].match(rest, false, r)
}

func (a *arnPattern) resolvable(r *evalCtx) bool {
	for i := range a.fields {
		if !a.fields[i].vars {
			continue
		}
		for j := range a.fields[i].toks {
			t := &a.fields[i].toks[j]
			if t.kind == tokVar {
				if _, ok := t.value(r); !ok {
					return false
				}
			}
		}
	}
	return true
}

// equal compares, case-insensitively when fold is set.
func equal(a, b string, fold bool) bool {
	if !fold {
		return a == b
	}
	return equalFold(a, b)
}

func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	return equalFold(s[:len(prefix)], prefix)
}

// equalFold is strings.EqualFold with an ASCII fast path; actions and most
// condition values are ASCII.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return strings.EqualFold(a, b)
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x|y >= utf8.RuneSelf {
			return strings.EqualFold(a[i:], b[i:])
		}
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// lower is strings.ToLower that does not allocate for already lower-case
// ASCII input.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}
