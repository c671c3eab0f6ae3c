package bot

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/renewbot/renewbot/flows"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFS embed.FS

// Catalog renders flows.Texts in Vietnamese (first) or English.
type Catalog struct {
	loc map[string]*i18n.Localizer
	ids map[string]map[string]bool // lang -> ids present
}

// NewCatalog loads the embedded catalogues.
func NewCatalog() (*Catalog, error) {
	b := i18n.NewBundle(language.Vietnamese)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{loc: map[string]*i18n.Localizer{}, ids: map[string]map[string]bool{}}
	for _, lang := range []string{"vi", "en"} {
		buf, err := fs.ReadFile(localeFS, "locales/"+lang+".toml")
		if err != nil {
			return nil, err
		}
		if _, err := b.ParseMessageFileBytes(buf, lang+".toml"); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", lang, err)
		}
		var raw map[string]any
		if err := toml.Unmarshal(buf, &raw); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", lang, err)
		}
		c.ids[lang] = map[string]bool{}
		for id := range raw {
			c.ids[lang][id] = true
		}
		c.loc[lang] = i18n.NewLocalizer(b, lang)
	}
	return c, nil
}

// IDs lists the message ids of a language.
func (c *Catalog) IDs(lang string) map[string]bool { return c.ids[lang] }

// Render translates t into lang (vi when unknown). Nested flows.Text values in
// t.Data are translated first. A missing id renders as the id itself, so a
// gap is visible rather than fatal; the catalogue test keeps both complete.
func (c *Catalog) Render(lang string, t flows.Text) string {
	l, ok := c.loc[lang]
	if !ok {
		lang, l = "vi", c.loc["vi"]
	}
	data := make(map[string]any, len(t.Data))
	for k, v := range t.Data {
		if nt, ok := v.(flows.Text); ok {
			v = c.Render(lang, nt)
		}
		data[k] = v
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: t.ID, TemplateData: data})
	if err != nil {
		return t.ID
	}
	return s
}

// RenderAll joins texts with a blank line.
func (c *Catalog) RenderAll(lang string, ts []flows.Text) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, c.Render(lang, t))
	}
	return strings.Join(parts, "\n\n")
}
