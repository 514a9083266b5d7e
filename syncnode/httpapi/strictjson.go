package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/lattice-sync/lattice/api/protocol"
)

// strictJSON refuses what encoding/json would silently alter instead of refusing:
// invalid UTF-8 and unpaired UTF-16 surrogate escapes (both become U+FFFD, so two
// distinct ids could collide), and object keys that match a field of t only
// case-insensitively ("Mutations", "ID"). Syntax errors are left to the decoder.
func strictJSON(raw []byte, t reflect.Type) error {
	if !utf8.Valid(raw) {
		return errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "the body is not valid UTF-8")
	}
	if at := unpairedSurrogate(raw); at >= 0 {
		return errorf(http.StatusBadRequest, protocol.CodeInvalidJSON,
			"a string holds an unpaired UTF-16 surrogate escape at byte %d", at).with("offset", at)
	}
	return exactKeys(raw, t, "")
}

// unpairedSurrogate returns the offset of the first \uD800-\uDFFF escape that is
// not a high surrogate followed by a low one, or -1.
func unpairedSurrogate(b []byte) int {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(b):
			if b[i+1] != 'u' {
				i++ // a one-character escape
				continue
			}
			r, ok := hex4(b, i+2)
			switch {
			case !ok || r < 0xD800 || r >= 0xE000:
			case r >= 0xDC00:
				return i
			default:
				low, lok := hex4(b, i+8)
				if i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' || !lok || low < 0xDC00 || low >= 0xE000 {
					return i
				}
				i += 6
			}
			i += 5
		}
	}
	return -1
}

// hex4 parses the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

var rawMessageType = reflect.TypeOf(json.RawMessage{})

// exactKeys checks, along the type t the value decodes into, that every object
// key naming a struct field names it exactly.
func exactKeys(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawMessageType:
		return nil
	case t.Kind() == reflect.Struct:
		return exactStructKeys(raw, t, path)
	case t.Kind() == reflect.Slice:
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return nil
		}
		for _, e := range elems {
			if err := exactKeys(e, t.Elem(), path); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for k, v := range obj {
			if err := exactKeys(v, t.Elem(), path+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

func exactStructKeys(raw []byte, t reflect.Type, path string) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	fields := jsonFields(t)
	for k, v := range obj {
		ft, ok := fields[k]
		if !ok {
			return errorf(http.StatusBadRequest, protocol.CodeInvalidMutation,
				"unknown field %q (field names are case-sensitive)", path+k).with("field", path+k)
		}
		if err := exactKeys(v, ft, path+k+"."); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields maps the exact JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
