package ecrmodel

import "strings"

// Wildcard reports whether the whole of s matches pattern, in which '*'
// stands for any run of characters (possibly empty, '/' included) and
// everything else is literal: ECR's tag mutability exclusions, lifecycle
// tagPatternList, registry scanning and replication filters all match so.
func Wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// WildcardAny reports whether s matches one of patterns.
func WildcardAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if Wildcard(p, s) {
			return true
		}
	}
	return false
}
