package impl

// FieldError is one failed check of the request. Keyword says which check
// failed, so that each dialect words it its own way; Limit and Format are
// the check's parameter where it has one. Message words it in plain
// English for the native API's problem details and OAuth's
// error_description; it never holds the offending value, which may be a
// password.
type FieldError struct {
	Location string // body, query, path or header
	Field    string // dotted path; "" for the whole body
	Keyword  Keyword
	// Limit is the schema's bound, for minLength, maxLength, minItems and
	// maxItems.
	Limit uint64
	// Format is the name of the string format, for format.
	Format  string
	Message string
}

// Keyword names the check a field failed: the JSON Schema keyword where
// the spec's validator made the check, else one of the few checks made
// outside the schema.
type Keyword string

// The JSON Schema keywords (OpenAPI 3.0's nullable among them) that the
// validator reports.
const (
	KeywordType                 Keyword = "type"
	KeywordNullable             Keyword = "nullable"
	KeywordRequired             Keyword = "required"
	KeywordEnum                 Keyword = "enum"
	KeywordFormat               Keyword = "format"
	KeywordPattern              Keyword = "pattern"
	KeywordMinLength            Keyword = "minLength"
	KeywordMaxLength            Keyword = "maxLength"
	KeywordMinimum              Keyword = "minimum"
	KeywordMaximum              Keyword = "maximum"
	KeywordExclusiveMinimum     Keyword = "exclusiveMinimum"
	KeywordExclusiveMaximum     Keyword = "exclusiveMaximum"
	KeywordMultipleOf           Keyword = "multipleOf"
	KeywordMinItems             Keyword = "minItems"
	KeywordMaxItems             Keyword = "maxItems"
	KeywordUniqueItems          Keyword = "uniqueItems"
	KeywordMinProperties        Keyword = "minProperties"
	KeywordMaxProperties        Keyword = "maxProperties"
	KeywordAdditionalProperties Keyword = "additionalProperties"
	KeywordOneOf                Keyword = "oneOf"
	KeywordAnyOf                Keyword = "anyOf"
	KeywordAllOf                Keyword = "allOf"
	KeywordNot                  Keyword = "not"
)

// The checks made outside the schema.
const (
	// KeywordParse: the body (or a value in it) could not be parsed.
	KeywordParse Keyword = "parse"
	// KeywordRepeated: a JSON member or form parameter came twice.
	KeywordRepeated Keyword = "repeated"
	// KeywordContentType: the body's media type is not one the
	// operation takes.
	KeywordContentType Keyword = "contentType"
	// KeywordQuery: parameters were sent in the query string of a route
	// that takes them only in the body.
	KeywordQuery Keyword = "query"
	// KeywordInvalid: any other failure, such as a value a parameter's
	// style cannot decode or one a policy refuses.
	KeywordInvalid Keyword = "invalid"
)

// schemaKeywords are the keywords of the validator's SchemaError.SchemaField
// values, by that value. kin-openapi reports an unknown property under
// "properties" and a false schema under "boolean".
var schemaKeywords = map[string]Keyword{}

func init() {
	for _, k := range []Keyword{
		KeywordType, KeywordNullable, KeywordRequired, KeywordEnum, KeywordFormat, KeywordPattern,
		KeywordMinLength, KeywordMaxLength, KeywordMinimum, KeywordMaximum, KeywordExclusiveMinimum,
		KeywordExclusiveMaximum, KeywordMultipleOf, KeywordMinItems, KeywordMaxItems, KeywordUniqueItems,
		KeywordMinProperties, KeywordMaxProperties, KeywordOneOf, KeywordAnyOf, KeywordAllOf, KeywordNot,
	} {
		schemaKeywords[string(k)] = k
	}
	schemaKeywords["properties"] = KeywordAdditionalProperties
}

// keywordOf is the keyword of a SchemaError's SchemaField.
func keywordOf(schemaField string) Keyword {
	if k, ok := schemaKeywords[schemaField]; ok {
		return k
	}
	return KeywordInvalid
}

// invalidField is the error of a request whose one failed check is f.
func invalidField(f FieldError, cause error) *Error {
	return &Error{Kind: KindInvalid, Detail: "the request failed validation", Fields: []FieldError{f}, Err: cause}
}

// bodyFault is the failed check keyword of the body's field ("" for the
// whole body).
func bodyFault(field string, keyword Keyword, message string) *FieldError {
	return &FieldError{Location: "body", Field: field, Keyword: keyword, Message: message}
}
