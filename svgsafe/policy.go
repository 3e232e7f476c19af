package svgsafe

// The allow-lists: static SVG 1.1/2 graphics, text, paint servers, clips,
// masks, markers and filters. Left out on purpose: script, foreignObject,
// animation (set and animate* can rewrite href to javascript:), style
// sheets' external parts (see css.go), cursor, font and font-face (external
// resources), metadata (may hold RDF with locations), view, and every
// element of another namespace.

var allowedElements = set(
	"svg", "g", "defs", "desc", "title", "symbol", "use", "image", "switch", "a", "style",
	"path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
	"text", "tspan", "textPath",
	"clipPath", "mask", "pattern", "marker", "linearGradient", "radialGradient", "stop",
	"filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
	"feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood",
	"feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge",
	"feMergeNode", "feMorphology", "feOffset", "fePointLight", "feSpecularLighting",
	"feSpotLight", "feTile", "feTurbulence",
)

// allowedAttrs are the attributes without a namespace that may stay, on
// any allowed element. href is checked separately (hrefElements), style
// goes through the CSS cleaner, and every value is checked for url(...)
// and script schemes.
var allowedAttrs = set(
	"id", "class", "style", "lang", "tabindex", "role", "focusable",
	"x", "y", "width", "height", "rx", "ry", "cx", "cy", "r", "x1", "y1", "x2", "y2", "fx", "fy", "fr",
	"d", "points", "pathLength", "viewBox", "preserveAspectRatio", "version", "transform", "transform-origin",
	"fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
	"stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity",
	"color", "display", "visibility", "overflow", "clip", "clip-path", "clip-rule", "mask", "filter",
	"marker-start", "marker-mid", "marker-end", "paint-order", "vector-effect", "isolation", "mix-blend-mode",
	"shape-rendering", "image-rendering", "text-rendering", "color-interpolation", "color-interpolation-filters",
	"font-family", "font-size", "font-size-adjust", "font-stretch", "font-style", "font-variant", "font-weight",
	"text-anchor", "dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
	"text-decoration", "writing-mode", "direction", "unicode-bidi",
	"dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side",
	"offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod",
	"patternUnits", "patternContentUnits", "patternTransform",
	"markerUnits", "markerWidth", "markerHeight", "refX", "refY", "orient",
	"clipPathUnits", "maskUnits", "maskContentUnits", "mask-type",
	"filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "mode", "operator",
	"k1", "k2", "k3", "k4", "values", "type", "tableValues", "slope", "intercept", "amplitude", "exponent",
	"kernelMatrix", "order", "divisor", "bias", "targetX", "targetY", "edgeMode", "preserveAlpha",
	"surfaceScale", "diffuseConstant", "specularConstant", "specularExponent", "kernelUnitLength",
	"scale", "xChannelSelector", "yChannelSelector", "flood-color", "flood-opacity", "lighting-color",
	"azimuth", "elevation", "pointsAtX", "pointsAtY", "pointsAtZ", "limitingConeAngle", "z", "radius",
	"baseFrequency", "numOctaves", "seed", "stitchTiles", "systemLanguage", "media",
)

// hrefElements may keep an href (or xlink:href) that points inside the
// document ("#id").
var hrefElements = set("use", "image", "feImage", "textPath", "a", "linearGradient", "radialGradient", "pattern", "filter")

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
