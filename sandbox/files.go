package sandbox

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // photo formats Telegram accepts
	"image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"path"
	"strings"
)

// MaxDownloadSize is the getFile limit for bots (20 MB).
const MaxDownloadSize = 20 << 20

// storeFileLocked keeps data under a new file id.
func (s *Server) storeFileLocked(kind, name, mimeType string, data []byte, w, h int) *File {
	s.nextFile++
	n := s.nextFile
	prefix := map[string]string{"photos": "AgACAgIAAxk", "documents": "BQACAgIAAxk"}[kind]
	f := &File{
		ID:       fmt.Sprintf("%s%06d%s", prefix, n, randomID(8)),
		UniqueID: fmt.Sprintf("AQAD%06d%s", n, randomID(3)),
		Name:     name,
		MIME:     mimeType,
		Size:     int64(len(data)),
		Width:    w,
		Height:   h,
		data:     data,
	}
	ext := path.Ext(name)
	if kind == "photos" {
		ext = ".jpg"
	}
	f.Path = fmt.Sprintf("%s/file_%d%s", kind, n, ext)
	s.files[f.ID] = f
	s.paths[f.Path] = f
	return f
}

// storePhotoLocked stores a photo in the sizes Telegram produces: scaled JPEG
// copies whose longest side is 90, 320, 800 and 1280 pixels (those smaller than the
// original) and, last, the original bytes unchanged.
func (s *Server) storePhotoLocked(name string, data []byte, strict bool) ([]*File, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		if strict {
			return nil, badRequest("IMAGE_PROCESS_FAILED")
		}
		return []*File{s.storeFileLocked("photos", name, "image/jpeg", data, 0, 0)}, nil
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var out []*File
	for _, side := range []int{90, 320, 800, 1280} {
		if side >= max(w, h) {
			break
		}
		sw, sh := side, h*side/w
		if h > w {
			sw, sh = w*side/h, side
		}
		sw, sh = max(sw, 1), max(sh, 1)
		var buf bytes.Buffer
		_ = jpeg.Encode(&buf, scale(img, sw, sh), &jpeg.Options{Quality: 80})
		out = append(out, s.storeFileLocked("photos", name, "image/jpeg", buf.Bytes(), sw, sh))
	}
	out = append(out, s.storeFileLocked("photos", name, "image/jpeg", data, w, h))
	return out, nil
}

// scale resizes img with nearest-neighbour sampling (enough for thumbnails).
func scale(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dst.Set(x, y, img.At(b.Min.X+x*b.Dx()/w, b.Min.Y+y*b.Dy()/h))
		}
	}
	return dst
}

func mimeFor(name, given string) string {
	if given != "" && given != "application/octet-stream" {
		return given
	}
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		if i := strings.IndexByte(t, ';'); i >= 0 {
			t = t[:i]
		}
		return t
	}
	if given != "" {
		return given
	}
	return "application/octet-stream"
}

// FileByID returns a stored file by file_id.
func (s *Server) FileByID(id string) (*File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	return f, ok
}

// serveFile serves GET /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, p, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeAPIError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	s.mu.Lock()
	f := s.paths[p]
	s.mu.Unlock()
	if f == nil {
		writeAPIError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	if f.Size > MaxDownloadSize {
		writeAPIError(w, &apiError{code: 400, desc: "Bad Request: file is too big"})
		return
	}
	w.Header().Set("Content-Type", mimeFor(f.Name, f.MIME))
	w.Header().Set("Content-Length", fmt.Sprint(f.Size))
	_, _ = w.Write(f.data)
}
