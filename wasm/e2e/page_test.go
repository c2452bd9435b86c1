//go:build !js

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"litequant/core/convert"
	"litequant/core/metadata"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// drop drags files (or folders) from outside onto the middle of the page
// with DevTools input events, as a person dragging them from a file
// manager does: dragEnter, dragOver, then drop.
func (b *browser) drop(paths ...string) {
	b.t.Helper()
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: paths, DragOperationsMask: 1}
	const x, y = 400, 300
	send := func(typ input.DispatchDragEventType) {
		b.t.Helper()
		b.do(20*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: x, Y: y, Data: data})
			return err
		}))
	}
	send(input.DispatchDragEventTypeDragEnter)
	send(input.DispatchDragEventTypeDragOver)
	if !eval[bool](b, `getComputedStyle(document.querySelector("#drop-overlay")).display !== "none"`) {
		b.t.Error("no drop target shown while dragging files over the page")
	}
	b.shot("dragging")
	send(input.DispatchDragEventTypeDrop)
}

// shot saves a screenshot of the whole page as $LITEQUANT_SHOTS/NAME.png
// when LITEQUANT_SHOTS names a folder (outside the repository).
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("LITEQUANT_SHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, b.t.Name()+"-"+name+".png"), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// copyTo copies files into dir and returns the new paths.
func copyTo(t *testing.T, dir string, paths ...string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
	}
	return out
}

// exampleFiles returns the example model and a folder holding its
// calibration images (copied into a temporary folder "stripes").
func exampleFiles(t *testing.T) (model, folder string, images []string) {
	t.Helper()
	ex := filepath.Join(repoRoot, "site", "example")
	pngs, _ := filepath.Glob(filepath.Join(ex, "*.png"))
	if len(pngs) == 0 {
		t.Fatal("site/example has no images")
	}
	folder = filepath.Join(t.TempDir(), "stripes")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	images = copyTo(t, folder, pngs...)
	return filepath.Join(ex, "model.tflite"), folder, images
}

// TestDropModelAndFolder: a .tflite and a folder of images dropped on the
// page become the model and the samples; int8 is preselected (samples are
// given) and the conversion equals the native converter's.
func TestDropModelAndFolder(t *testing.T) {
	model, folder, images := exampleFiles(t)
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.shot("start")
	b.drop(model, folder)
	b.waitFor(`document.querySelector("#summary dl") !== null || document.querySelector("#status").dataset.kind === "error"`,
		60*time.Second, "the dropped model to load")
	if st := b.status(); st.Kind == "error" {
		t.Fatalf("dropped model: %q", st.Text)
	}
	if !eval[bool](b, `getComputedStyle(document.querySelector("#drop-overlay")).display === "none"`) {
		t.Error("the drop target is still shown after the drop")
	}
	info := eval[string](b, `document.querySelector("#samples-info").textContent`)
	if !strings.HasPrefix(info, "12 sample file(s)") {
		t.Fatalf("samples after dropping a folder of %d images: %q", len(images), info)
	}
	b.waitFor(`document.querySelectorAll("#advice li[data-mode]").length > 0`, 30*time.Second, "the mode advice")
	b.waitFor(`document.querySelector("#mode").value === "int8"`, 30*time.Second, "int8 to be preselected")
	advice := eval[map[string]string](b, `Object.fromEntries([...document.querySelectorAll("#advice li[data-mode]")].map((li) => [li.dataset.mode, li.textContent]))`)
	t.Logf("advice: %q", advice)
	for _, m := range convert.ModeInfos {
		line := advice[string(m.Name)]
		switch {
		case line == "":
			t.Errorf("no advice for %s", m.Name)
		case m.Calibrates && !strings.Contains(line, "needs samples (12 given)") && !strings.Contains(line, "not possible"):
			t.Errorf("%s advice %q does not say it needs samples", m.Name, line)
		case !m.Calibrates && !strings.Contains(line, "no samples needed"):
			t.Errorf("%s advice %q", m.Name, line)
		}
	}
	if !strings.Contains(advice["int8"], "%)") {
		t.Errorf("int8 advice %q gives no size", advice["int8"])
	}
	if !eval[bool](b, `document.querySelector("#advice li[data-mode=int8]").classList.contains("chosen")`) {
		t.Error("the chosen mode's advice line is not marked")
	}
	b.shot("loaded")
	st, _ := b.quantize(120 * time.Second)
	if st.Kind != "done" {
		t.Fatalf("status %q (%s)", st.Text, st.Kind)
	}
	b.shot("done")
	got, _ := b.download()
	// 12 samples: "Check the result" is on by default, holding back 1 in 8.
	if !eval[bool](b, `document.querySelector("#verify").checked`) {
		t.Fatal("Check the result is off with 12 samples")
	}
	want, _ := nativeConvert(t, model, []string{folder}, convert.Options{Mode: "int8", VerifySplit: 0.125})
	if !bytes.Equal(got, want) {
		t.Fatalf("the page's model (%d bytes) differs from the native int8 conversion of the folder (%d bytes)", len(got), len(want))
	}
	// The status ends in the state reached, at each step.
	if st := b.status(); !strings.HasPrefix(st.Text, "Done in ") {
		t.Errorf("after the conversion: %q", st.Text)
	}
	if st, _ := b.quantize(60 * time.Second); st.Kind != "cached" || !strings.Contains(st.Text, "from the cache") {
		t.Errorf("the same conversion again: %q (%s), want from the cache", st.Text, st.Kind)
	}
	b.drop(images[0])
	b.waitFor(`document.querySelector("#samples-info").textContent.startsWith("1 sample file(s)")`, 30*time.Second, "the new sample")
	if st := b.status(); st.Text != "1 sample file(s) chosen: press Quantize." {
		t.Errorf("after dropping a sample the status says %q", st.Text)
	}
}

// TestWrongFiles: files that are not float models get a plain message
// naming what they are, the converter's words one click away, and a
// disabled Quantize saying why.
func TestWrongFiles(t *testing.T) {
	_, _, images := exampleFiles(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	float, err := os.ReadFile(filepath.Join(repoRoot, "site", "example", "model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "my_saved_model")
	os.MkdirAll(filepath.Join(saved, "variables"), 0o755)
	write(filepath.Join("my_saved_model", "saved_model.pb"), []byte{0x08, 0x01, 0x12, 0x00})
	cases := []struct {
		name, path, want string
		drop             bool
	}{
		{"png", images[0], "This is a PNG image, not a", false},
		{"jpeg", write("photo.tflite", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'}), "This is a JPEG image", false},
		{"zip", write("model.zip", []byte("PK\x03\x04rest of an archive")), "This is a ZIP archive", true},
		{"onnx", write("resnet.onnx", []byte{0x08, 0x07, 0x12, 0x07}), "This is an ONNX model", true},
		{"keras", write("model.h5", []byte("\x89HDF\r\n\x1a\nrest")), "Keras", true},
		{"savedmodel", saved, "TensorFlow SavedModel", true},
		{"truncated", write("cut.tflite", float[:len(float)/3]), "", false},
		{"int8", shared(t, "models", "hello_world_int8.tflite"), "already quantized", false},
	}
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	for _, c := range cases {
		eval[bool](b, `(() => { document.querySelector("#status").dataset.kind = "test"; return true })()`)
		if c.drop {
			b.drop(c.path)
		} else {
			b.upload("#model", c.path)
		}
		b.waitFor(`document.querySelector("#status").dataset.kind === "error"`, 60*time.Second, c.name+": the error")
		plain := eval[string](b, `document.querySelector("#load-error p").textContent`)
		detail := eval[string](b, `document.querySelector("#load-error pre") ? document.querySelector("#load-error pre").textContent : ""`)
		reason := eval[string](b, `document.querySelector("#quantize-reason").textContent`)
		disabled := eval[bool](b, `document.querySelector("#quantize").disabled`)
		t.Logf("%s: %q / detail %q / %q", c.name, plain, detail, reason)
		want := c.want
		if c.name == "truncated" {
			want = "cut short"
		}
		if !strings.Contains(plain, want) {
			t.Errorf("%s: message %q, want it to say %q", c.name, plain, want)
		}
		if detail == "" {
			t.Errorf("%s: no detail one click away", c.name)
		}
		if !disabled || !strings.Contains(reason, "did not load") {
			t.Errorf("%s: Quantize disabled %v, reason %q", c.name, disabled, reason)
		}
		if c.name == "png" {
			b.shot("png-as-model")
		}
	}
}

// TestOptionsGrouped: mode and I/O types are visible, every other option
// is under Advanced; every option has a tooltip naming its TensorFlow
// counterpart, and no placeholder looks like a value.
func TestOptionsGrouped(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	type control struct {
		ID, Title, Placeholder string
		Advanced, Visible      bool
	}
	cs := eval[[]control](b, `[...document.querySelectorAll("[data-option]")].map((c) => ({
		ID: c.id, Title: c.title, Placeholder: c.placeholder || "",
		Advanced: !!c.closest("#advanced"), Visible: c.checkVisibility() }))`)
	if len(cs) < 10 {
		t.Fatalf("only %d options on the page", len(cs))
	}
	common := map[string]bool{"mode": true, "input-type": true, "output-type": true}
	for _, c := range cs {
		if common[c.ID] == c.Advanced {
			t.Errorf("%s: under Advanced %v", c.ID, c.Advanced)
		}
		if c.Advanced == c.Visible {
			t.Errorf("%s: visible %v with Advanced closed", c.ID, c.Visible)
		}
		if !strings.Contains(c.Title, "TensorFlow") && !strings.Contains(c.Title, "representative_dataset") && !strings.Contains(c.Title, "litequant only") {
			t.Errorf("%s: tooltip %q names no TensorFlow counterpart", c.ID, c.Title)
		}
		if c.Placeholder != "" && !regexp.MustCompile(`^(not set|none)\b`).MatchString(c.Placeholder) {
			t.Errorf("%s: placeholder %q could be taken for a value", c.ID, c.Placeholder)
		}
	}
	b.click("#advanced summary")
	b.shot("advanced")
}

// shellWords splits a command line as a POSIX shell does for the quoting
// the page uses (plain words and single quotes).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, in = true, true
		case c == ' ':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\\' || c == '"' || c == '$' || c == '`':
			t.Fatalf("unexpected shell syntax %q in %q", c, s)
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// buildCLI builds the litequant command into a temporary folder.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "litequant")
	cmd := exec.Command("go", "build", "-o", bin, "./core/cmd/litequant")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	return bin
}

// runCLI runs the command line args (args[0] "litequant") in dir and
// returns the bytes of its -o file.
func runCLI(t *testing.T, bin, dir string, args []string) []byte {
	t.Helper()
	if len(args) < 2 || args[0] != "litequant" || args[1] != "quantize" {
		t.Fatalf("not a litequant quantize command: %q", args)
	}
	cmd := exec.Command(bin, args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", args, err, out)
	}
	out := ""
	for i, a := range args {
		if a == "-o" && i+1 < len(args) {
			out = args[i+1]
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReportAndCommandLine: the report's operator counts add up to its
// rows and to the model's operators, every float one says why; "Copy as
// command line" run by the CLI makes the very same bytes, and so does a
// recipe loaded into the page and given to the CLI with --config.
func TestReportAndCommandLine(t *testing.T) {
	model, folder, _ := exampleFiles(t)
	work := filepath.Dir(folder)
	copyTo(t, work, model)
	model = filepath.Join(work, "model.tflite")
	bin := buildCLI(t)
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.drop(model, folder)
	b.waitFor(`document.querySelector("#summary dl") !== null`, 60*time.Second, "the model")
	b.waitFor(`document.querySelector("#mode").value === "int8"`, 30*time.Second, "int8 to be preselected")

	for _, c := range []struct {
		mode  string
		extra map[string]any
	}{
		{"int8", map[string]any{"#output-type": "int8", "#skip-ops": "SOFTMAX"}},
		{"dynamic", map[string]any{"#min-weight-elements": "1", "#verify": true}},
	} {
		b.set("#mode", c.mode)
		for sel, v := range c.extra {
			b.set(sel, v)
		}
		st, _ := b.quantize(120 * time.Second)
		if st.Kind != "done" && st.Kind != "cached" {
			t.Fatalf("%s: %q", c.mode, st.Text)
		}
		got, _ := b.download()

		type counts struct{ Total, Integer, Weights, Float, Added, Rows, FloatNoReason int }
		n := eval[counts](b, `(() => { const d = document.querySelector("#op-counts").dataset;
			const rows = [...document.querySelectorAll("#operators tbody tr")];
			return {Total: +d.total, Integer: +d.integer, Weights: +d.weights, Float: +d.float, Added: +d.added, Rows: rows.length,
				FloatNoReason: rows.filter((r) => r.dataset.class === "float" && !r.cells[4].textContent.trim()).length}; })()`)
		ops := opCount(t, got)
		t.Logf("%s: %+v; the model has %d operators", c.mode, n, ops)
		if n.Integer+n.Weights+n.Float+n.Added != n.Total || n.Total != n.Rows || n.Rows != ops {
			t.Errorf("%s: counts %+v do not add up to the %d rows / %d operators", c.mode, n, n.Rows, ops)
		}
		if added := eval[int](b, `(window.__lastReport && window.__lastReport.quantize.added_ops) || 0`); c.mode == "int8" && added != n.Added {
			t.Errorf("%s: %d rows of added QUANTIZE/DEQUANTIZE, the converter's report says %d", c.mode, n.Added, added)
		}
		if n.FloatNoReason > 0 {
			t.Errorf("%s: %d float operators without a reason", c.mode, n.FloatNoReason)
		}
		if c.mode == "int8" && (n.Float == 0 || n.Added == 0) {
			t.Errorf("int8 with SOFTMAX skipped: %+v, want a float operator and added QUANTIZE/DEQUANTIZE", n)
		}
		b.click("#copy-command")
		cmd := eval[string](b, `document.querySelector("#command").textContent`)
		t.Logf("%s: %s", c.mode, cmd)
		if cli := runCLI(t, bin, work, shellWords(t, cmd)); !bytes.Equal(cli, got) {
			t.Errorf("%s: the copied command makes %d bytes, the page %d, not the same", c.mode, len(cli), len(got))
		}
		if c.mode == "int8" {
			b.shot("report")
		}
	}

	// A recipe: loaded into the page, and given to the CLI.
	recipe := filepath.Join(work, "recipe.json")
	if err := os.WriteFile(recipe, []byte(`{"mode": "float16", "min_weight_elements": 1, "skip_tensors": "dense"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	b.upload("#load-recipe", recipe)
	b.waitFor(`document.querySelector("#status").textContent.startsWith("Recipe recipe.json loaded")`, 10*time.Second, "the recipe")
	if v := eval[string](b, `document.querySelector("#mode").value + " " + document.querySelector("#skip-tensors").value + " " + document.querySelector("#skip-ops").value`); v != "float16 dense " {
		t.Errorf("after loading the recipe: mode, skip-tensors, skip-ops = %q", v)
	}
	b.set("#verify", false)
	st, _ := b.quantize(60 * time.Second)
	if st.Kind != "done" {
		t.Fatalf("recipe: %q", st.Text)
	}
	got, _ := b.download()
	cli := runCLI(t, bin, work, []string{"litequant", "quantize", "--config", "recipe.json", "-o", "cli.tflite", "model.tflite"})
	if !bytes.Equal(cli, got) {
		t.Errorf("the recipe in the page and in the CLI (--config) give different models (%d and %d bytes)", len(got), len(cli))
	}
}

// opCount counts the operators of a model.
func opCount(t *testing.T, data []byte) int {
	t.Helper()
	m, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sg := range m.Subgraphs {
		n += len(sg.Operators)
	}
	return n
}

// metadataModel writes the example classifier with Model Maker style
// metadata (per-channel NormalizationOptions, a packed label file) into
// dir and returns its path.
func metadataModel(t *testing.T, dir string, mean, std []float32) string {
	t.Helper()
	model, err := os.ReadFile(filepath.Join(repoRoot, "site", "example", "model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := metadata.Attach(model, metadata.ImageClassifier("stripes", mean, std, 16, 16, "labels.txt"),
		map[string][]byte{"labels.txt": []byte("horizontal\nvertical\ndiagonal\n")})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "stripes_with_metadata.tflite")
	if err := os.WriteFile(p, file, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMetadataNormalization: a model whose metadata has
// NormalizationOptions: the page shows them, calibrates with them (the
// report says so, and the model equals the native conversion, which reads
// them too), and Image mean/std set under Advanced take their place.
func TestMetadataNormalization(t *testing.T) {
	_, folder, _ := exampleFiles(t)
	model := metadataModel(t, filepath.Dir(folder), []float32{100, 110, 120}, []float32{50, 60, 70})
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.drop(model, folder)
	b.waitFor(`document.querySelector("#metadata") !== null`, 60*time.Second, "the metadata block")
	shown := eval[string](b, `document.querySelector("#metadata").textContent`)
	t.Logf("metadata block: %q", shown)
	for _, want := range []string{"mean 100, 110, 120", "std 50, 60, 70", "16×16 RGB", "labels.txt: 3 (horizontal, vertical, diagonal)"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the metadata block does not show %q", want)
		}
	}
	if ph := eval[string](b, `document.querySelector("#image-mean").placeholder`); !strings.Contains(ph, "100, 110, 120") {
		t.Errorf("image mean placeholder %q", ph)
	}
	b.waitFor(`document.querySelector("#mode").value === "int8"`, 30*time.Second, "int8 to be preselected")
	b.set("#verify", false)
	st, _ := b.quantize(120 * time.Second)
	if st.Kind != "done" {
		t.Fatalf("status %q", st.Text)
	}
	b.shot("metadata")
	norm := eval[string](b, `document.querySelector("#report-normalization").textContent`)
	if !strings.Contains(norm, "from the model's metadata") || !strings.Contains(norm, "[100 110 120]") {
		t.Errorf("the report says the samples were normalized with %q", norm)
	}
	got, _ := b.download()
	want, _ := nativeConvert(t, model, []string{folder}, convert.Options{Mode: "int8"})
	if !bytes.Equal(got, want) {
		t.Errorf("the page's model (%d bytes) differs from the native conversion (%d bytes)", len(got), len(want))
	}
	plain, _ := nativeConvert(t, model, []string{folder}, convert.Options{Mode: "int8", ImageMean: 127.5, ImageStd: 127.5})
	if bytes.Equal(got, plain) {
		t.Error("the metadata's normalization made no difference to the model")
	}
	// Overridden under Advanced.
	b.set("#image-mean", "127.5")
	b.set("#image-std", "127.5")
	if st, _ := b.quantize(120 * time.Second); st.Kind != "done" {
		t.Fatalf("status %q", st.Text)
	}
	if norm := eval[string](b, `document.querySelector("#report-normalization").textContent`); !strings.Contains(norm, "from the options") {
		t.Errorf("with Image mean/std set the report says %q", norm)
	}
	if got, _ := b.download(); !bytes.Equal(got, plain) {
		t.Error("with Image mean/std 127.5 the page's model differs from the native one")
	}
}

// TestLabelsPreview: for a classifier with a label file in its metadata,
// the page shows the float and the quantized model's top labels on a
// held-back sample, the same the native preview gives.
func TestLabelsPreview(t *testing.T) {
	_, folder, images := exampleFiles(t)
	model := metadataModel(t, filepath.Dir(folder), []float32{127.5}, []float32{127.5})
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.dropAndQuantizeWithMetadata(model, folder)
	b.waitFor(`document.querySelector("#preview") !== null`, 30*time.Second, "the preview")
	b.shot("preview")
	type col struct{ Labels, Scores []string }
	cols := eval[[]col](b, `[...document.querySelectorAll("#preview .preview-col")].map((c) => ({
		Labels: [...c.querySelectorAll(".label")].map((e) => e.textContent),
		Scores: [...c.querySelectorAll(".score")].map((e) => e.textContent)}))`)
	text := eval[string](b, `document.querySelector("#preview").textContent`)
	t.Logf("preview: %+v; %q", cols, text)
	if len(cols) != 2 {
		t.Fatalf("%d preview columns", len(cols))
	}
	got, _ := b.download()
	files, err := samples.ReadPaths(images)
	if err != nil {
		t.Fatal(err)
	}
	modelBytes, _ := os.ReadFile(model)
	p, err := convert.ClassifierPreview(context.Background(), modelBytes, got, files, convert.Options{Mode: "int8", VerifySplit: 0.125}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]convert.Score{p.Float, p.Quantized} {
		if len(cols[i].Labels) != len(want) {
			t.Fatalf("column %d: %d labels, want %d", i, len(cols[i].Labels), len(want))
		}
		for k, s := range want {
			if cols[i].Labels[k] != s.Label || cols[i].Scores[k] != fmt.Sprintf("%.1f%%", 100*s.Score) {
				t.Errorf("column %d row %d: %s %s, the native preview %s %.1f%%", i, k, cols[i].Labels[k], cols[i].Scores[k], s.Label, 100*s.Score)
			}
		}
	}
	if !strings.Contains(text, filepath.Base(p.Source)) || !strings.Contains(text, "held back from calibration") || !strings.Contains(text, "labels.txt") {
		t.Errorf("the preview does not name its sample %s as held back, or its labels: %q", p.Source, text)
	}
}

// TestPasteFiles: files pasted on the page (a clipboard holding files, as
// copying them in a file manager gives) are taken as a drop is. Chromium
// has no DevTools command to put files on the clipboard, so the paste
// event is built in the page with a real DataTransfer.
func TestPasteFiles(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	eval[bool](b, `(async () => {
		const dt = new DataTransfer();
		const get = async (n) => new File([await (await fetch("example/" + n)).blob()], n);
		dt.items.add(await get("model.tflite"));
		for (const n of ["horizontal-0.png", "vertical-0.png", "diagonal-0.png"]) dt.items.add(await get(n));
		document.body.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true}));
		return true;
	})()`)
	b.waitFor(`document.querySelector("#summary dl") !== null`, 60*time.Second, "the pasted model")
	if info := eval[string](b, `document.querySelector("#samples-info").textContent`); !strings.HasPrefix(info, "3 sample file(s)") {
		t.Errorf("samples after the paste: %q", info)
	}
	if st := b.status(); !strings.HasPrefix(st.Text, "Loaded model.tflite") {
		t.Errorf("status after the paste: %q", st.Text)
	}
}

// dropAndQuantizeWithMetadata drops a model with TFLite metadata and a
// folder of 12 images, waits for the metadata and int8's preselection,
// checks "Check the result" is on and quantizes to done.
func (b *browser) dropAndQuantizeWithMetadata(model, folder string) {
	t := b.t
	t.Helper()
	b.drop(model, folder)
	b.waitFor(`document.querySelector("#metadata") !== null && document.querySelector("#mode").value === "int8"`, 60*time.Second, "the model")
	if !eval[bool](b, `document.querySelector("#verify").checked`) {
		t.Fatal("Check the result is off with 12 samples")
	}
	st, _ := b.quantize(120 * time.Second)
	if st.Kind != "done" {
		t.Fatalf("status %q", st.Text)
	}
}
