package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromiumPath finds Debian's chromium (package "chromium"). Without it the
// test is skipped, except under CI=true, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed and CI=true: install Debian's chromium package (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the HTML rendering test")
	return ""
}

// screenshot renders the HTML file with headless Chromium to a PNG of
// 1280x2000 pixels and decodes it.
func screenshot(t *testing.T, chromium, htmlFile, pngFile string) image.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	abs, err := filepath.Abs(htmlFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+t.TempDir(), "--screenshot="+pngFile,
		"--window-size=1280,2000", "file://"+abs)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium failed: %v\n%s", err, out.String())
	}
	f, err := os.Open(pngFile)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, out.String())
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", pngFile, err)
	}
	return img
}

// near reports whether two colours are within a small distance, allowing
// for anti-aliasing.
func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(x uint32, y uint8) int { v := int(x>>8) - int(y); return v * v }
	return d(cr, r)+d(cg, g)+d(cb, b) < 3*12*12
}

// TestHTMLRendersInChromium renders the report of the fixed dataset in
// headless Chromium and checks the screenshot: the page has the expected
// size, text, and the SVG bars in every category colour that has failures.
func TestHTMLRendersInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	r := fromFile(t, "testdata/week.ndjson", weekOptions(t, time.UTC))
	dir := t.TempDir()
	htmlFile := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(htmlFile, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	img := screenshot(t, chromium, htmlFile, filepath.Join(dir, "report.png"))
	if got := img.Bounds().Size(); got.X != 1280 || got.Y != 2000 {
		t.Fatalf("screenshot is %dx%d, want 1280x2000", got.X, got.Y)
	}
	counts := map[string]int{}
	var dark int
	for y := 0; y < img.Bounds().Dy(); y += 2 {
		for x := 0; x < img.Bounds().Dx(); x += 2 {
			c := img.At(x, y)
			for cat, hex := range categoryColors {
				var cr, cg, cb uint8
				if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &cr, &cg, &cb); err == nil && near(c, cr, cg, cb) {
					counts[cat]++
				}
			}
			if near(c, 0x1f, 0x29, 0x37) {
				dark++
			}
		}
	}
	if dark < 500 {
		t.Errorf("only %d dark text pixels: the page did not render its text", dark)
	}
	for _, c := range r.Categories {
		if c.Count > 0 && counts[c.Category] < 20 {
			t.Errorf("category %s (%d failures) has %d pixels of its colour %s: the charts did not render", c.Category, c.Count, counts[c.Category], categoryColors[c.Category])
		}
	}
}
