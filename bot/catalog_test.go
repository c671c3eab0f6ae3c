package bot

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/renewbot/renewbot/flows"
)

// The catalogue tests keep bot/locales complete for the conversation code:
// every message id flows/*.go can produce must exist in Vietnamese and
// English, and render with the data the code passes.

const flowsDir = "../flows"

var (
	// Literal ids: T("id", Say("id", refuse("id", MsgID: "id", Text{ID: "id".
	reLiteralID = regexp.MustCompile(`\b(?:T|Say|refuse)\(\s*"([^"]+)"|\bMsgID:\s*"([^"]+)"|\bID:\s*"([^"]+)"`)
	// Dynamic ids built from a literal prefix: T("type_"+string(c.Type)).
	reDynamicID = regexp.MustCompile(`\b(?:T|Say|refuse)\(\s*"([^"]+)"\s*\+`)
	// Ids chosen into a variable first: id := "cert_line", how = "dossier_case2".
	reVarID = regexp.MustCompile(`\b(?:id|how)\s*:?=\s*"([a-z0-9_.]+)"`)
	// Ids returned by validators and CheckPromo: return "err_email", return 0, "err_code_used".
	reReturnID = regexp.MustCompile(`\breturn\s+(?:[^"\n]*,\s*)?"(err_[a-z0-9_]+)"`)
	// The editable fields of the inherited information (flows/renewal.go infoFields).
	reInfoField = regexp.MustCompile(`(?m)^\s*\{"((?:subject|invoice|payment)\.[a-z_]+)",`)
)

// flowsSources reads the non-test Go files of flows/.
func flowsSources(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(flowsDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]string{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src[filepath.Base(p)] = string(b)
	}
	if len(src) == 0 {
		t.Fatalf("no Go files in %s", flowsDir)
	}
	return src
}

// families expands the dynamic id prefixes from their known values.
func families(t *testing.T, src map[string]string) map[string][]string {
	t.Helper()
	fam := map[string][]string{}
	for _, ct := range flows.CertTypes {
		fam["type_"] = append(fam["type_"], "type_"+string(ct))
	}
	for _, s := range []flows.OrderStatus{flows.OrderDraft, flows.OrderAwaitingPayment, flows.OrderPaid,
		flows.OrderSubmitted, flows.OrderApproved, flows.OrderRejected, flows.OrderCancelled} {
		fam["status_"] = append(fam["status_"], "status_"+string(s))
	}
	blocks := map[string]bool{}
	for _, m := range reInfoField.FindAllStringSubmatch(src["renewal.go"], -1) {
		fam["field_"] = append(fam["field_"], "field_"+m[1])
		blocks[m[1][:strings.IndexByte(m[1], '.')]] = true
	}
	if len(fam["field_"]) < 11 {
		t.Fatalf("found %d info fields in flows/renewal.go, want at least 11: update reInfoField", len(fam["field_"]))
	}
	for _, b := range []string{"subject", "invoice", "payment"} {
		if !blocks[b] {
			t.Errorf("no field of block %q found in flows/renewal.go", b)
		}
		fam["block_"] = append(fam["block_"], "block_"+b)
	}
	for _, m := range []flows.SignMethod{flows.SignHand, flows.SignDigital} {
		fam["form_"] = append(fam["form_"], "form_"+string(m))
		fam["ask_upload_"] = append(fam["ask_upload_"], "ask_upload_"+string(m))
	}
	return fam
}

// usedIDs is every message id flows/*.go can produce.
func usedIDs(t *testing.T) map[string]bool {
	t.Helper()
	src := flowsSources(t)
	fam := families(t, src)
	ids := map[string]bool{}
	for file, s := range src {
		for _, m := range reLiteralID.FindAllStringSubmatch(s, -1) {
			for _, id := range m[1:] {
				if id != "" {
					ids[id] = true
				}
			}
		}
		for _, re := range []*regexp.Regexp{reVarID, reReturnID} {
			for _, m := range re.FindAllStringSubmatch(s, -1) {
				ids[m[1]] = true
			}
		}
		for _, m := range reDynamicID.FindAllStringSubmatch(s, -1) {
			vals, ok := fam[m[1]]
			if !ok {
				t.Errorf("flows/%s builds ids with the unknown prefix %q: add its values to families()", file, m[1])
			}
			for _, id := range vals {
				ids[id] = true
			}
			delete(ids, m[1]) // a literal prefix is not an id itself
		}
	}
	for _, want := range []string{"dossier_case1", "dossier_case2", "err_code_not_applicable", "err_email", "order_summary"} {
		if !ids[want] {
			t.Fatalf("the scan of flows/ did not find %q: the regexps are out of date", want)
		}
	}
	return ids
}

// dataKeys maps each id to the template data keys flows/*.go passes with it,
// read from the calls T/Say/refuse(id, "Key", value, ...).
func dataKeys(t *testing.T) map[string]map[string]bool {
	t.Helper()
	src := flowsSources(t)
	fam := families(t, src)
	// Variables holding ids, and the ids they can hold.
	vars := map[string][]string{}
	for _, m := range reVarID.FindAllStringSubmatch(src["account.go"]+src["renewal.go"], -1) {
		if strings.HasPrefix(m[1], "cert_line") {
			vars["id"] = append(vars["id"], m[1])
		} else {
			vars["how"] = append(vars["how"], m[1])
		}
	}
	for _, m := range reReturnID.FindAllStringSubmatch(src["renewmath.go"], -1) {
		vars["reason"] = append(vars["reason"], m[1])
	}

	keys := map[string]map[string]bool{}
	fset := token.NewFileSet()
	for name, s := range src {
		f, err := parser.ParseFile(fset, name, s, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 || call.Ellipsis.IsValid() {
				return true
			}
			fn, ok := call.Fun.(*ast.Ident)
			if !ok || (fn.Name != "T" && fn.Name != "Say" && fn.Name != "refuse") {
				return true
			}
			var ids []string
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				id, _ := strconv.Unquote(a.Value)
				ids = []string{id}
			case *ast.BinaryExpr:
				if lit, ok := a.X.(*ast.BasicLit); ok {
					p, _ := strconv.Unquote(lit.Value)
					ids = fam[p]
				}
			case *ast.Ident:
				ids = vars[a.Name]
				if a.Name == "msg" && len(call.Args) > 1 {
					t.Errorf("%s: refuse(msg, ...) with data: the validators' ids take none", fset.Position(call.Pos()))
				}
			}
			if len(ids) == 0 && len(call.Args) > 1 {
				t.Errorf("%s: cannot tell which ids %s(...) produces to check its data keys", fset.Position(call.Pos()), fn.Name)
			}
			for _, id := range ids {
				if keys[id] == nil {
					keys[id] = map[string]bool{}
				}
				for i := 1; i < len(call.Args); i += 2 {
					lit, ok := call.Args[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: data key of %s is not a string literal", fset.Position(call.Args[i].Pos()), id)
						continue
					}
					k, _ := strconv.Unquote(lit.Value)
					keys[id][k] = true
				}
			}
			return true
		})
	}
	return keys
}

// samples are plausible template values by data key; Text values are
// rendered first by Catalog.Render, as in production.
func samples(full bool) map[string]any {
	m := map[string]any{
		"Name": "Nguyễn Văn An", "Hotline": "1900 8677", "Email": "a***@example.com", "ChatID": int64(123456789),
		"Phone": "*******678", "Count": 2, "Serial": "540346B3F4A1C2", "Type": flows.T("type_individual"),
		"Subject": "Nguyễn Văn An", "Expiry": "31/12/2025", "Days": 12, "SalesRep": "Trần Thị Bình 0912345678",
		"State": "renew_order", "Ref": "HD000123", "Reason": "Ảnh chụp đơn bị mờ", "Years": flows.T("years", "N", 1),
		"Price": flows.Money(1250000), "Package": "Gói 1 năm", "Code": "TET2025", "Discount": flows.Money(125000),
		"Total": flows.Money(1125000), "NewExpiry": "31/12/2026", "Carried": 20, "Max": 32,
		"Label": flows.T("field_invoice.email"), "Value": "an@example.com", "Current": "an@example.com",
		"Bank": "Vietcombank", "Account": "0123456789", "Holder": "CONG TY CP MISA", "Purpose": flows.TransferPurpose("HD000123"),
		"Paid": flows.Money(1000000), "Txn": "FT25001234", "Amount": flows.Money(1125000), "Seconds": 42,
		"Left": 3, "N": 2, "MB": flows.MaxUploadBytes >> 20, "Method": "hand", "Date": "01/12/2025",
		"Status": flows.T("status_" + string(flows.OrderAwaitingPayment)),
	}
	if !full { // the other branch of every {{if}}
		for k, v := range map[string]any{"Name": "", "SalesRep": "", "Reason": "", "Code": "", "Discount": flows.Money(0),
			"Carried": 0, "Current": "", "Left": 1, "N": 1, "Count": 1, "Years": flows.T("months", "N", 6), "Method": "otp"} {
			m[k] = v
		}
	}
	return m
}

// sampleOverrides are values of a key that means something else for one id.
var sampleOverrides = map[string]map[string]any{
	"staff_marked_paid": {"Status": string(flows.PaymentMatched)},
}

func newTestCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// (a) every id the conversation uses exists in both catalogues.
func TestCatalogHasEveryFlowsID(t *testing.T) {
	c := newTestCatalog(t)
	used := usedIDs(t)
	for _, lang := range []string{"vi", "en"} {
		have := c.IDs(lang)
		for _, id := range sortedKeys(used) {
			if !have[id] {
				t.Errorf("%s.toml lacks %q", lang, id)
			}
		}
	}
	var unused []string
	for _, id := range sortedKeys(c.IDs("vi")) {
		if !used[id] {
			unused = append(unused, id)
		}
	}
	t.Logf("%d ids used by flows/; catalogue ids not produced by flows/ (used elsewhere or stale): %v", len(used), unused)
}

// (b) vi and en have exactly the same ids.
func TestCatalogLanguagesMatch(t *testing.T) {
	c := newTestCatalog(t)
	vi, en := c.IDs("vi"), c.IDs("en")
	for _, id := range sortedKeys(vi) {
		if !en[id] {
			t.Errorf("%q is in vi.toml but not en.toml", id)
		}
	}
	for _, id := range sortedKeys(en) {
		if !vi[id] {
			t.Errorf("%q is in en.toml but not vi.toml", id)
		}
	}
}

// (c) every id renders, with the data keys the code passes, in both languages
// and both branches of its conditionals.
func TestCatalogRendersEveryID(t *testing.T) {
	c := newTestCatalog(t)
	keys := dataKeys(t)
	all := samples(true)
	for _, lang := range []string{"vi", "en"} {
		for _, id := range sortedKeys(c.IDs(lang)) {
			for _, full := range []bool{true, false} {
				sample := samples(full)
				var data map[string]any
				if ks, ok := keys[id]; ok {
					data = map[string]any{}
					for k := range ks {
						v, ok := sample[k]
						if !ok {
							t.Fatalf("no sample value for data key %q of %q: add one to samples()", k, id)
						}
						if o, ok := sampleOverrides[id][k]; ok {
							v = o
						}
						data[k] = v
					}
				} else { // not produced by flows/ (bot/, reminders...): any known key
					data = all
				}
				got := c.Render(lang, flows.Text{ID: id, Data: data})
				switch {
				case got == id:
					t.Errorf("%s %q does not render (missing or a template error)", lang, id)
				case strings.Contains(got, "<no value>"):
					t.Errorf("%s %q uses a data key the code does not pass: %q", lang, id, got)
				case strings.TrimSpace(got) == "":
					t.Errorf("%s %q renders empty", lang, id)
				}
				if strings.HasPrefix(id, "btn_") && id != "btn_expired" { // btn_expired is a toast, not a label
					if n := utf8.RuneCountInString(got); n > 40 {
						t.Errorf("%s button %q is %d characters, keep it under 40: %q", lang, id, n, got)
					}
				}
			}
		}
		// Every field label fits the Edit button.
		for _, id := range sortedKeys(c.IDs(lang)) {
			if !strings.HasPrefix(id, "field_") || id == "field_line" || id == "field_saved" {
				continue
			}
			got := c.Render(lang, flows.T("btn_edit", "Label", flows.T(id)))
			if n := utf8.RuneCountInString(got); n > 40 {
				t.Errorf("%s edit button for %q is %d characters: %q", lang, id, n, got)
			}
		}
	}
}

// rawTemplates reads a catalogue's message templates as written.
func rawTemplates(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := fs.ReadFile(localeFS, "locales/"+lang+".toml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.toml: %v", lang, err)
	}
	return m
}

var reTemplateAction = regexp.MustCompile(`\{\{[^}]*\}\}`)

func hasVietnameseLetter(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII && unicode.Is(unicode.Latin, r) {
			return true
		}
	}
	return false
}

// (d) the Vietnamese texts are written with diacritics; the English ones are
// not Vietnamese left untranslated.
func TestCatalogVietnameseDiacritics(t *testing.T) {
	vi, en := rawTemplates(t, "vi"), rawTemplates(t, "en")
	with := 0
	for id, s := range vi {
		text := reTemplateAction.ReplaceAllString(s, " ")
		if hasVietnameseLetter(text) {
			with++
			continue
		}
		words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) })
		if len(words) >= 3 {
			t.Errorf("vi %q has no Vietnamese diacritics: %q", id, s)
		}
	}
	if with*2 < len(vi) {
		t.Errorf("only %d of %d vi texts have diacritics", with, len(vi))
	}
	for id, s := range en {
		if hasVietnameseLetter(reTemplateAction.ReplaceAllString(s, " ")) && s != vi[id] {
			t.Errorf("en %q looks Vietnamese: %q", id, s)
		}
	}
}
