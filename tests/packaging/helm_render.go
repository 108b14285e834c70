// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// helm_render.go - render a Helm chart with Go's text/template, for machines without helm
//
// Debian 12 has no helm. Helm's templates are Go text/template plus sprig
// functions; this renders the Ember chart with text/template itself and the
// few functions the chart uses (include, toYaml, nindent, quote, default,
// required, sha256sum), implemented with Helm's semantics. It is a test
// tool: a template using anything else fails here, loudly, which keeps the
// chart inside what is tested.
//
// Usage: go run helm_render.go CHART_DIR CONTEXT.json
// CONTEXT.json holds {"Values", "Chart", "Release"}; the documents of every
// template go to stdout, each after "# Source: NAME".
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// Strings written plain, as Helm writes them; anything else is quoted.
var plainSafe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

var yamlKeyword = map[string]bool{"true": true, "false": true, "null": true, "yes": true,
	"no": true, "on": true, "off": true, "y": true, "n": true, "~": true}

func isEmpty(v interface{}) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case float64:
		return t == 0
	case []interface{}:
		return len(t) == 0
	case map[string]interface{}:
		return len(t) == 0
	}
	return false
}

func scalar(v interface{}) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if plainSafe.MatchString(t) && !yamlKeyword[strings.ToLower(t)] {
			return t
		}
		// A JSON string is a valid YAML double-quoted scalar.
		b, _ := json.Marshal(t)
		return string(b)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// toYaml writes block-style YAML, keys sorted, as Helm's toYaml does.
func toYaml(v interface{}, indent string, b *strings.Builder) {
	switch t := v.(type) {
	case map[string]interface{}:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(indent + scalar(k) + ":")
			writeValue(t[k], indent, b)
		}
	case []interface{}:
		for _, item := range t {
			switch item.(type) {
			case map[string]interface{}, []interface{}:
				if isEmpty(item) {
					b.WriteString(indent + "- " + emptyOf(item) + "\n")
					continue
				}
				var sub strings.Builder
				toYaml(item, indent+"  ", &sub)
				// The first line of the item goes after the dash.
				s := sub.String()
				b.WriteString(indent + "- " + strings.TrimPrefix(s, indent+"  "))
			default:
				b.WriteString(indent + "- " + scalar(item) + "\n")
			}
		}
	default:
		b.WriteString(indent + scalar(v) + "\n")
	}
}

func emptyOf(v interface{}) string {
	if _, ok := v.([]interface{}); ok {
		return "[]"
	}
	return "{}"
}

func writeValue(v interface{}, indent string, b *strings.Builder) {
	switch v.(type) {
	case map[string]interface{}, []interface{}:
		if isEmpty(v) {
			b.WriteString(" " + emptyOf(v) + "\n")
			return
		}
		b.WriteString("\n")
		toYaml(v, indent+"  ", b)
	default:
		b.WriteString(" " + scalar(v) + "\n")
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: helm_render CHART_DIR CONTEXT.json")
		os.Exit(2)
	}
	chartDir := os.Args[1]
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var ctx map[string]interface{}
	if err := json.Unmarshal(raw, &ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chartName := filepath.Base(chartDir)
	basePath := chartName + "/templates"
	ctx["Template"] = map[string]interface{}{"BasePath": basePath}

	root := template.New("chart").Option("missingkey=zero")
	funcs := template.FuncMap{
		"include": func(name string, data interface{}) (string, error) {
			var out bytes.Buffer
			err := root.ExecuteTemplate(&out, name, data)
			return out.String(), err
		},
		"toYaml": func(v interface{}) string {
			var b strings.Builder
			toYaml(v, "", &b)
			return strings.TrimSuffix(b.String(), "\n")
		},
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"quote": func(v interface{}) string {
			if s, ok := v.(string); ok {
				return strconv.Quote(s)
			}
			return strconv.Quote(scalar(v))
		},
		"default": func(def interface{}, v ...interface{}) interface{} {
			if len(v) == 0 || isEmpty(v[0]) {
				return def
			}
			return v[0]
		},
		"required": func(msg string, v interface{}) (interface{}, error) {
			if isEmpty(v) {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"sha256sum": func(s string) string {
			sum := sha256.Sum256([]byte(s))
			return hex.EncodeToString(sum[:])
		},
	}
	root.Funcs(funcs)

	files, _ := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	sort.Strings(files)
	var names []string
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		name := basePath + "/" + filepath.Base(f)
		if _, err := root.New(name).Parse(string(text)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// Helm renders every file but partials (_*.tpl) and NOTES.txt.
		if !strings.HasPrefix(filepath.Base(f), "_") && strings.HasSuffix(f, ".yaml") {
			names = append(names, name)
		}
	}
	for _, name := range names {
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, name, ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("---\n# Source: %s\n%s\n", name, out.String())
	}
}
