package compat

import (
	"os"
	"strings"
	"testing"
)

// TestDocsQuoteTheGlue keeps docs/clients/*.md and test/compat/glue/*.js one source.
func TestDocsQuoteTheGlue(t *testing.T) {
	for doc, glue := range map[string]string{"rxdb.md": "rxdb.js", "signaldb.md": "signaldb.js", "watermelondb.md": "watermelondb.js"} {
		page, err := os.ReadFile("../../docs/clients/" + doc)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile("glue/" + glue)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), "```js\n"+string(src)+"```") {
			t.Errorf("docs/clients/%s does not quote test/compat/glue/%s verbatim", doc, glue)
		}
	}
}
