package policy

import (
	"bytes"
	"time"
)

// eval decides one condition. IAM's rules, quoted from the Condition
// operator reference where it has them:
//   - a key absent from the request matches nothing, so positive operators
//     are false and negated ones ("StringNotLike", "NotIpAddress") true;
//   - ...IfExists is true when the key is absent;
//   - several values in the policy are ORed; for a negated operator the
//     request value must match none of them (NOR);
//   - ForAllValues: every request value must satisfy the operator (true for
//     an absent key or empty set); ForAnyValue: at least one must (false
//     for an absent key).
//
// Without a qualifier, a key holding several request values is treated as
// ForAnyValue for positive operators and, for negated ones, as "no request
// value matches any policy value" — the negation of the positive form.
// AWS documents no rule for this case (it says multivalued keys "require a
// condition set operator"); this keeps X and NotX exact complements.
func (c *condition) eval(ec *evalCtx) bool {
	vs := ec.lookup(c.key)
	if c.kind == opNull {
		absent := vs.n == 0
		for i := range c.operands {
			if o := &c.operands[i]; o.ok && o.null == absent {
				return true
			}
		}
		return false
	}
	if vs.n == 0 {
		switch {
		case c.ifExists, c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.neg
	}
	switch c.set {
	case setAny:
		for i := 0; i < vs.n; i++ {
			if c.single(vs.at(i), ec) {
				return true
			}
		}
		return false
	case setAll:
		for i := 0; i < vs.n; i++ {
			if !c.single(vs.at(i), ec) {
				return false
			}
		}
		return true
	}
	if c.neg {
		for i := 0; i < vs.n; i++ {
			if !c.single(vs.at(i), ec) {
				return false
			}
		}
		return true
	}
	for i := 0; i < vs.n; i++ {
		if c.single(vs.at(i), ec) {
			return true
		}
	}
	return false
}

// single applies the operator to one request value against every policy
// value: for a positive operator true when any matches, for a negated one
// true when none matches. A comparison that cannot be made (an unparsable
// number, date or address, an unresolvable variable) is no match either
// way, so it can make neither a positive nor a negated operator true.
func (c *condition) single(v string, ec *evalCtx) bool {
	matched, failed := c.compare(v, ec)
	if c.neg {
		return !matched && !failed
	}
	return matched
}

// compare reports whether v matches any operand, and whether any
// comparison could not be made.
func (c *condition) compare(v string, ec *evalCtx) (matched, failed bool) {
	switch c.kind {
	case opString, opStringIgnoreCase, opStringLike:
		fold := c.kind == opStringIgnoreCase
		for i := range c.operands {
			m, ok := c.operands[i].pat.match(v, fold, ec)
			if !ok {
				failed = true
			} else if m {
				return true, failed
			}
		}
	case opARN:
		for i := range c.operands {
			m, ok := c.operands[i].arn.match(v, ec)
			if !ok {
				failed = true
			} else if m {
				return true, failed
			}
		}
	case opBool:
		want, okv := parseBool(v)
		for i := range c.operands {
			s, ok := c.operands[i].pat.resolvedText(ec)
			b, okb := parseBool(s)
			if !ok || !okv || !okb {
				failed = true
			} else if b == want {
				return true, failed
			}
		}
	case opNumEq, opNumLt, opNumLe, opNumGt, opNumGe:
		n, okv := parseNumber(v)
		for i := range c.operands {
			o := &c.operands[i]
			if !okv || !o.ok {
				failed = true
			} else if compareNum(c.kind, n, o.num) {
				return true, failed
			}
		}
	case opDateEq, opDateLt, opDateLe, opDateGt, opDateGe:
		t, okv := parseDate(v)
		for i := range c.operands {
			o := &c.operands[i]
			if !okv || !o.ok {
				failed = true
			} else if compareDate(c.kind, t, o.at) {
				return true, failed
			}
		}
	case opIP:
		a, okv := parseAddr(v)
		for i := range c.operands {
			o := &c.operands[i]
			if !okv || !o.ok {
				failed = true
			} else if o.pfx.Contains(a) {
				return true, failed
			}
		}
	case opBinary:
		// The request value is base-64 like the policy's; compare bytes, so
		// that encodings of the same bytes agree.
		b, okv := decodeBinary(v)
		if !okv {
			b = []byte(v)
		}
		for i := range c.operands {
			o := &c.operands[i]
			if !o.ok {
				failed = true
			} else if bytes.Equal(b, o.bin) {
				return true, failed
			}
		}
	}
	return false, failed
}

func parseBool(s string) (bool, bool) {
	switch {
	case equalFold(s, "true"):
		return true, true
	case equalFold(s, "false"):
		return false, true
	}
	return false, false
}

func compareNum(k opKind, a, b float64) bool {
	switch k {
	case opNumEq:
		return a == b
	case opNumLt:
		return a < b
	case opNumLe:
		return a <= b
	case opNumGt:
		return a > b
	}
	return a >= b
}

func compareDate(k opKind, a, b time.Time) bool {
	switch k {
	case opDateEq:
		return a.Equal(b)
	case opDateLt:
		return a.Before(b)
	case opDateLe:
		return !a.After(b)
	case opDateGt:
		return a.After(b)
	}
	return !a.Before(b)
}
