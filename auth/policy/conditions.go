package policy

import (
	"net/netip"
	"strings"
	"time"
)

// opKind is a condition operator family, negation and qualifiers aside.
type opKind uint8

const (
	opString opKind = iota + 1
	opStringIgnoreCase
	opStringLike
	opNumEq
	opNumLt
	opNumLe
	opNumGt
	opNumGe
	opDateEq
	opDateLt
	opDateLe
	opDateGt
	opDateGe
	opBool
	opBinary
	opIP
	opARN
	opNull
)

type opInfo struct {
	kind opKind
	neg  bool
}

// operators are IAM's condition operators. Names are matched exactly, as
// IAM does.
var operators = map[string]opInfo{
	"StringEquals":              {opString, false},
	"StringNotEquals":           {opString, true},
	"StringEqualsIgnoreCase":    {opStringIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumEq, false},
	"NumericNotEquals":          {opNumEq, true},
	"NumericLessThan":           {opNumLt, false},
	"NumericLessThanEquals":     {opNumLe, false},
	"NumericGreaterThan":        {opNumGt, false},
	"NumericGreaterThanEquals":  {opNumGe, false},
	"DateEquals":                {opDateEq, false},
	"DateNotEquals":             {opDateEq, true},
	"DateLessThan":              {opDateLt, false},
	"DateLessThanEquals":        {opDateLe, false},
	"DateGreaterThan":           {opDateGt, false},
	"DateGreaterThanEquals":     {opDateGe, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinary, false},
	"IpAddress":                 {opIP, false},
	"NotIpAddress":              {opIP, true},
	"ArnEquals":                 {opARN, false},
	"ArnLike":                   {opARN, false},
	"ArnNotEquals":              {opARN, true},
	"ArnNotLike":                {opARN, true},
	"Null":                      {opNull, false},
}

type setOp uint8

const (
	setNone setOp = iota
	setAny        // ForAnyValue:
	setAll        // ForAllValues:
)

// condition is one operator/key pair of a Condition block with its values.
type condition struct {
	kind     opKind
	neg      bool
	set      setOp
	ifExists bool
	key      string // lower-cased
	operands []operand
}

// operand is one policy value, pre-parsed for its operator.
type operand struct {
	pat  pattern    // string operators, Bool
	arn  arnPattern // ARN operators
	num  float64
	at   time.Time
	pfx  netip.Prefix
	bin  []byte
	ok   bool // num/at/pfx/bin/null parsed
	null bool // Null: true means "the key must be absent"
}

// splitOperator parses [ForAnyValue:|ForAllValues:]Operator[IfExists].
func splitOperator(name string) (opInfo, setOp, bool, bool) {
	set := setNone
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		set, name = setAny, name[len("ForAnyValue:"):]
	case strings.HasPrefix(name, "ForAllValues:"):
		set, name = setAll, name[len("ForAllValues:"):]
	}
	info, ok := operators[name]
	if ok {
		return info, set, false, true
	}
	if base, found := strings.CutSuffix(name, "IfExists"); found {
		// IfExists applies to every operator but Null.
		if info, ok := operators[base]; ok && info.kind != opNull {
			return info, set, true, true
		}
	}
	return opInfo{}, set, false, false
}

// conditionSyntax checks a Condition element's shape: an object mapping
// operators IAM knows (an unknown one only with an empty block) to objects
// mapping keys to a scalar or a list of scalars.
func conditionSyntax(raw rawValue) *Error {
	ops, ok := raw.object()
	if !ok {
		return errorf(msgSyntax)
	}
	for _, op := range ops {
		keys, ok := op.value.object()
		if !ok {
			return errorf(msgSyntax)
		}
		if _, _, _, known := splitOperator(op.key); !known && len(keys) > 0 {
			return errorf(msgSyntax)
		}
		for _, k := range keys {
			if _, ok := k.value.scalars(); !ok {
				return errorf(msgSyntax)
			}
		}
	}
	return nil
}

// parseConditions compiles a Condition element. vars is true for Version
// 2012-10-17, where string, ARN and Bool operands may hold variables.
func parseConditions(raw rawValue, vars bool) ([]condition, *Error) {
	ops, ok := raw.object()
	if !ok {
		return nil, errorf(msgSyntax)
	}
	var out []condition
	for _, op := range ops {
		keys, ok := op.value.object()
		if !ok {
			return nil, errorf(msgSyntax)
		}
		info, set, ifExists, known := splitOperator(op.key)
		if !known {
			if len(keys) == 0 {
				// IAM lets an unknown operator with an empty block through;
				// it constrains nothing.
				continue
			}
			return nil, errorf(msgSyntax)
		}
		for _, k := range keys {
			vals, ok := k.value.scalars()
			if !ok {
				return nil, errorf(msgSyntax)
			}
			c := condition{kind: info.kind, neg: info.neg, set: set, ifExists: ifExists, key: lower(k.key)}
			for _, v := range vals {
				o, err := compileOperand(info.kind, v, vars)
				if err != nil {
					return nil, err
				}
				c.operands = append(c.operands, o)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func compileOperand(kind opKind, v string, vars bool) (operand, *Error) {
	var o operand
	switch kind {
	case opString, opStringIgnoreCase:
		o.pat = compile(v, false, vars)
	case opStringLike:
		o.pat = compile(v, true, vars)
	case opBool:
		o.pat = compile(v, false, vars)
	case opARN:
		o.arn = compileARN(v, vars)
	case opNumEq, opNumLt, opNumLe, opNumGt, opNumGe:
		// IAM stores a malformed number; it simply never matches.
		o.num, o.ok = parseNumber(v)
	case opDateEq, opDateLt, opDateLe, opDateGt, opDateGe:
		// IAM's legacy parser refuses a date it cannot read.
		t, ok := parseDate(v)
		if !ok {
			return o, errorf(msgLegacy)
		}
		o.at, o.ok = t, true
	case opIP:
		o.pfx, o.ok = parsePrefix(v)
	case opBinary:
		o.bin, o.ok = decodeBinary(v)
	case opNull:
		switch strings.ToLower(v) {
		case "true":
			o.null, o.ok = true, true
		case "false":
			o.ok = true
		}
	}
	return o, nil
}
