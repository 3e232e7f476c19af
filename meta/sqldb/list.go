package sqldb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
)

// Listing limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// sortKey is one order of ImageFilter.Sort: a column and a direction, with
// the id as tie-breaker in the same direction (keyset pagination).
type sortKey struct {
	col  string
	desc bool
	kind byte // 't' time, 'i' integer, 's' text
}

var sortKeys = map[string]sortKey{
	imgmgr.SortCreatedDesc: {"created_at", true, 't'},
	imgmgr.SortCreatedAsc:  {"created_at", false, 't'},
	imgmgr.SortSizeDesc:    {"size", true, 'i'},
	imgmgr.SortSizeAsc:     {"size", false, 'i'},
	imgmgr.SortTitleAsc:    {"title", false, 's'},
	imgmgr.SortTitleDesc:   {"title", true, 's'},
}

// cursor is what a NextCursor holds: the sort it belongs to and the sort
// value and id of the last image of the page.
type cursor struct {
	Sort  string          `json:"s"`
	Value json.RawMessage `json:"v"`
	ID    string          `json:"id"`
}

func badCursor() error {
	return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_cursor", "the cursor is not valid for this listing")
}

func encodeCursor(sort string, k sortKey, im *imgmgr.Image) string {
	var v any
	switch k.kind {
	case 't':
		v = im.CreatedAt.UTC().Format(TimeText)
	case 'i':
		v = im.Size
	default:
		v = im.Title
	}
	raw, _ := json.Marshal(v)
	b, _ := json.Marshal(cursor{Sort: sort, Value: raw, ID: im.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the sort value (as a query argument) and id.
func (db *DB) decodeCursor(s, sort string, k sortKey) (any, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, "", badCursor()
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort || c.ID == "" {
		return nil, "", badCursor()
	}
	d := json.NewDecoder(bytes.NewReader(c.Value))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, "", badCursor()
	}
	switch k.kind {
	case 't':
		str, ok := v.(string)
		t, err := time.Parse(time.RFC3339Nano, str)
		if !ok || err != nil {
			return nil, "", badCursor()
		}
		return db.tv(t), c.ID, nil
	case 'i':
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			return nil, "", badCursor()
		}
		return i, c.ID, nil
	default:
		str, ok := v.(string)
		if !ok {
			return nil, "", badCursor()
		}
		return str, c.ID, nil
	}
}

// likeEscape escapes s for a LIKE pattern with '\' as the escape character.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListImages returns one page of images matching f, in f.Sort order. Pages
// use keyset pagination on (sort column, id), so they neither repeat nor
// skip images while others are added. An unknown sort, a bad cursor or a
// negative limit gives an Invalid; limit 0 means 50 and more than 200 is
// cut to 200. Text matches title or filename, case-insensitively (ASCII
// only in SQLite). Title order is by byte value.
func (db *DB) ListImages(ctx context.Context, f imgmgr.ImageFilter) (imgmgr.ImagePage, error) {
	const op = "meta.ListImages"
	page := imgmgr.ImagePage{Images: []imgmgr.Image{}}
	sort := f.Sort
	if sort == "" {
		sort = imgmgr.SortCreatedDesc
	}
	k, ok := sortKeys[sort]
	if !ok {
		return page, imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_sort", "unknown sort %q", f.Sort))
	}
	limit, err := listLimit(f.Limit)
	if err != nil {
		return page, imgmgr.Wrap(op, err)
	}
	where, args := db.imageFilter(f)
	if f.Cursor != "" {
		v, id, err := db.decodeCursor(f.Cursor, sort, k)
		if err != nil {
			return page, imgmgr.Wrap(op, err)
		}
		cmp := ">"
		if k.desc {
			cmp = "<"
		}
		where = append(where, `(`+k.col+`, id) `+cmp+` (?, ?)`)
		args = append(args, v, id)
	}
	dir := " ASC"
	if k.desc {
		dir = " DESC"
	}
	q := `SELECT ` + imageCols + ` FROM images`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY ` + k.col + dir + `, id` + dir + ` LIMIT ?`
	args = append(args, limit+1)
	ims, err := db.queryImages(ctx, q, args)
	if err != nil {
		return page, db.fail(op, err)
	}
	if len(ims) > limit {
		ims = ims[:limit]
		page.NextCursor = encodeCursor(sort, k, ims[limit-1])
	}
	for _, im := range ims {
		page.Images = append(page.Images, *im)
	}
	return page, nil
}

func listLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_limit", "limit must be between 1 and %d", MaxLimit)
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return MaxLimit, nil
	}
	return n, nil
}

// imageFilter turns f's filters into WHERE terms and their arguments.
func (db *DB) imageFilter(f imgmgr.ImageFilter) ([]string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(term string, a ...any) {
		where = append(where, term)
		args = append(args, a...)
	}
	if f.OwnerID != "" {
		add(`owner_id = ?`, f.OwnerID)
	}
	if f.AlbumID != "" {
		add(`album_id = ?`, f.AlbumID)
	}
	if f.Tag != "" {
		add(`EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.tag = ?)`, f.Tag)
	}
	if f.Format != "" {
		add(`format = ?`, f.Format)
	}
	if f.Visibility != "" {
		add(`visibility = ?`, string(f.Visibility))
	}
	if f.Text != "" {
		p := "%" + likeEscape(f.Text) + "%"
		add(`(title `+db.d.ILike+` ? ESCAPE '\' OR filename `+db.d.ILike+` ? ESCAPE '\')`, p, p)
	}
	if !f.CreatedAfter.IsZero() {
		add(`created_at > ?`, db.tv(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		add(`created_at < ?`, db.tv(f.CreatedBefore))
	}
	return where, args
}

func (db *DB) queryImages(ctx context.Context, q string, args []any) ([]*imgmgr.Image, error) {
	rows, err := db.query(ctx, db.r, q, args...)
	if err != nil {
		return nil, err
	}
	var ims []*imgmgr.Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ims = append(ims, im)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ims, db.loadTags(ctx, db.r, ims)
}
