package imgmgr

import "time"

// Visibility says who may see an image besides its owner and admins.
type Visibility string

const (
	Private Visibility = "private"
	Public  Visibility = "public"
)

// Valid reports whether v is a known visibility.
func (v Visibility) Valid() bool { return v == Private || v == Public }

// Header is what a header-only probe of an image file tells.
// Width and Height are of one frame as stored (before EXIF rotation).
type Header struct {
	Format      string `json:"format"` // jpeg, png, gif, webp, avif, heif, jxl, tiff, bmp, svg
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Frames      int    `json:"frames"`
	HasAlpha    bool   `json:"alpha"`
	Orientation int    `json:"orientation"` // EXIF orientation 1..8; 1 when absent
}

// Image is one uploaded image. Several images may share one stored original
// (same SHA256); each upload has its own row.
type Image struct {
	ID         string     `json:"id"`
	OwnerID    string     `json:"owner_id"`
	SHA256     string     `json:"sha256"`
	Size       int64      `json:"size"`
	Header                // format, width, height, frames, alpha, orientation
	Title      string     `json:"title"`
	Filename   string     `json:"filename"`
	Visibility Visibility `json:"visibility"`
	AlbumID    string     `json:"album_id,omitempty"`
	Tags       []string   `json:"tags"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// ContentType is the MIME type of the stored original.
func (im *Image) ContentType() string { return MIMEType(im.Format) }

// MIMEType maps a format name to its MIME type.
func MIMEType(format string) string {
	switch format {
	case "jpeg":
		return "image/jpeg"
	case "png":
		return "image/png"
	case "gif":
		return "image/gif"
	case "webp":
		return "image/webp"
	case "avif":
		return "image/avif"
	case "heif":
		return "image/heif"
	case "jxl":
		return "image/jxl"
	case "tiff":
		return "image/tiff"
	case "bmp":
		return "image/bmp"
	case "svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// ImageUpdate is a partial update: nil fields are left unchanged.
// AlbumID set to "" removes the image from its album. Tags replaces all
// tags; AddTags and RemoveTags edit the current set.
type ImageUpdate struct {
	Title      *string     `json:"title,omitempty"`
	Visibility *Visibility `json:"visibility,omitempty"`
	AlbumID    *string     `json:"album_id,omitempty"`
	Tags       *[]string   `json:"tags,omitempty"`
	AddTags    []string    `json:"add_tags,omitempty"`
	RemoveTags []string    `json:"remove_tags,omitempty"`
}

// ImageFilter selects and orders images for a listing.
// Zero fields do not filter. Sort is one of SortCreatedDesc (default),
// SortCreatedAsc, SortSizeDesc, SortSizeAsc, SortTitleAsc, SortTitleDesc.
type ImageFilter struct {
	OwnerID       string // "" = every owner (admins only)
	AlbumID       string
	Tag           string
	Format        string
	Visibility    Visibility
	Text          string // substring of title or filename, case-insensitive
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Sort          string
	Cursor        string // opaque, from a previous page's NextCursor
	Limit         int    // 1..200, default 50
}

// The sort orders of ImageFilter.Sort.
const (
	SortCreatedDesc = "-created"
	SortCreatedAsc  = "created"
	SortSizeDesc    = "-size"
	SortSizeAsc     = "size"
	SortTitleAsc    = "title"
	SortTitleDesc   = "-title"
)

// ImagePage is one page of a listing; NextCursor is "" on the last page.
type ImagePage struct {
	Images     []Image `json:"images"`
	NextCursor string  `json:"next_cursor"`
}

// Album groups images of one owner.
type Album struct {
	ID        string    `json:"id"`
	OwnerID   string    `json:"owner_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Count     int       `json:"count"` // images in it, filled by listings
}

// TagCount is a tag and how many of the owner's images carry it.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
}

// DayCount is how many images (and bytes) were uploaded on one UTC day.
type DayCount struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Count int    `json:"count"`
	Bytes int64  `json:"bytes"`
}
