#include "model/harmony/tools_section.h"

#include <map>
#include <set>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace warden::model::harmony {
namespace {

using Json = nlohmann::ordered_json;

const Json* Member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const std::string* StringMember(const Json& obj, const char* key) {
  const Json* v = Member(obj, key);
  return v != nullptr && v->is_string() ? &v->get_ref<const std::string&>() : nullptr;
}

bool IsEnum(const Json& schema) {
  const Json* e = Member(schema, "enum");
  return e != nullptr && e->is_array() && !e->empty();
}

bool IsNullable(const Json& schema) {
  const Json* n = Member(schema, "nullable");
  return n != nullptr && n->is_boolean() && n->get<bool>();
}

// `default` text of a property: a string in double quotes (raw, unescaped) unless the
// schema is an enum, then bare; other values as compact JSON.
std::string DefaultText(const Json& schema, const Json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    return IsEnum(schema) ? s : absl::StrCat("\"", s, "\"");
  }
  return CompactJson(value);
}

std::string WithNullable(const Json& schema, std::string type) {
  if (IsNullable(schema) && type.find("null") == std::string::npos) type += " | null";
  return type;
}

// Schema text is the app's, and a line break in it must not end a `//` comment or a type
// line (the reference writes it raw). Its lines, split at every line break JavaScript knows:
// LF, CR, CRLF, U+2028, U+2029. At least one (empty text: one empty line).
std::vector<std::string> SchemaTextLines(const std::string& text) {
  std::vector<std::string> lines(1);
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n' || text[i] == '\r') {
      i += text.compare(i, 2, "\r\n") == 0 ? 2 : 1;
      lines.emplace_back();
    } else if (text.compare(i, 3, "\xE2\x80\xA8") == 0 || text.compare(i, 3, "\xE2\x80\xA9") == 0) {
      i += 3;
      lines.emplace_back();
    } else {
      lines.back().push_back(text[i++]);
    }
  }
  return lines;
}

// `indent// line\n` for every line of `text`.
std::string CommentBlock(const std::string& indent, const std::string& text) {
  std::string out;
  for (const std::string& line : SchemaTextLines(text)) absl::StrAppend(&out, indent, "// ", line, "\n");
  return out;
}

// ` // text` after a type; a line of `text` after the first goes on a line of its own,
// `indent// line` (no final line break).
std::string TrailingComment(const std::string& indent, const std::string& text) {
  std::string out;
  for (const std::string& line : SchemaTextLines(text)) {
    absl::StrAppend(&out, out.empty() ? " // " : absl::StrCat("\n", indent, "// "), line);
  }
  return out;
}

// Schema text outside comments (property names, enum values, type names) on one line: its
// line breaks escaped as in a JavaScript string.
std::string OneLine(const std::string& text) {
  if (text.find_first_of("\n\r\xE2") == std::string::npos) return text;
  return absl::StrReplaceAll(
      text, {{"\n", "\\n"}, {"\r", "\\r"}, {"\xE2\x80\xA8", "\\u2028"}, {"\xE2\x80\xA9", "\\u2029"}});
}

std::string Comments(const std::vector<std::string>& comments, const std::string& indent) {
  return comments.empty() ? "" : TrailingComment(indent, absl::StrJoin(comments, " "));
}

// Rule 1: a schema that is itself a oneOf.
std::string OneOfType(const Json& variants, const std::string& indent) {
  std::string out;
  for (const Json& variant : variants) {
    absl::StrAppend(&out, "\n", indent, " | ",
                    WithNullable(variant, SchemaToTypeScript(variant, indent + "   ")));
    std::vector<std::string> comments;
    if (const std::string* d = StringMember(variant, "description")) comments.push_back(*d);
    if (const Json* def = Member(variant, "default")) {
      // Unlike properties, an enum's string default is printed as JSON here (quoted).
      comments.push_back(absl::StrCat("default: ", def->is_string() && !IsEnum(variant)
                                                       ? DefaultText(variant, *def)
                                                       : CompactJson(*def)));
    }
    out += Comments(comments, indent);
  }
  return out;
}

// A property whose schema has a oneOf array (rule 3, "property with oneOf").
void AppendOneOfProperty(const std::string& name, const std::string& optional_mark,
                         const Json& prop, const Json& variants, const std::string& indent,
                         std::string* out) {
  const std::string* desc = StringMember(prop, "description");
  const std::string* first_desc =
      variants.empty() ? nullptr : StringMember(variants.front(), "description");
  const bool desc_above = desc != nullptr && (first_desc == nullptr || *first_desc != *desc);
  if (desc_above) absl::StrAppend(out, CommentBlock(indent, *desc));
  if (const Json* def = Member(prop, "default")) {
    absl::StrAppend(out, CommentBlock(indent, absl::StrCat("default: ", DefaultText(prop, *def))));
  }
  absl::StrAppend(out, indent, OneLine(name), optional_mark, ":\n");
  bool first = true;
  for (const Json& variant : variants) {
    absl::StrAppend(out, indent, " | ",
                    WithNullable(variant, SchemaToTypeScript(variant, indent + "   ")));
    std::vector<std::string> comments;
    const std::string* vdesc = StringMember(variant, "description");
    if (!(first && desc_above) && vdesc != nullptr && (desc == nullptr || *vdesc != *desc)) {
      comments.push_back(*vdesc);
    }
    if (const Json* def = Member(variant, "default")) {
      comments.push_back(absl::StrCat("default: ", DefaultText(variant, *def)));
    }
    absl::StrAppend(out, Comments(comments, indent), "\n");
    first = false;
  }
  absl::StrAppend(out, indent, ",\n");
}

void AppendProperty(const std::string& name, const Json& prop, bool required,
                    const std::string& indent, std::string* out) {
  const std::string optional_mark = required ? "" : "?";
  const Json* one_of = Member(prop, "oneOf");
  if (const std::string* title = StringMember(prop, "title")) {
    absl::StrAppend(out, CommentBlock(indent, *title), indent, "//\n");
  }
  if (one_of == nullptr) {
    if (const std::string* d = StringMember(prop, "description")) {
      absl::StrAppend(out, CommentBlock(indent, *d));
    }
  }
  if (const Json* examples = Member(prop, "examples");
      examples != nullptr && examples->is_array() && !examples->empty()) {
    absl::StrAppend(out, indent, "// Examples:\n");
    for (const Json& ex : *examples) {
      if (ex.is_string()) {
        absl::StrAppend(out, CommentBlock(indent, absl::StrCat("- \"", ex.get_ref<const std::string&>(), "\"")));
      }
    }
  }
  if (one_of != nullptr && one_of->is_array()) {
    AppendOneOfProperty(name, optional_mark, prop, *one_of, indent, out);
    return;
  }
  absl::StrAppend(out, indent, OneLine(name), optional_mark, ": ",
                  WithNullable(prop, SchemaToTypeScript(prop, indent + "    ")), ",");
  if (one_of == nullptr) {
    if (const Json* def = Member(prop, "default")) {
      absl::StrAppend(out, TrailingComment(indent, absl::StrCat("default: ", DefaultText(prop, *def))));
    }
  }
  out->push_back('\n');
}

std::string ObjectType(const Json& schema, const std::string& indent) {
  std::string out;
  if (const std::string* d = StringMember(schema, "description")) {
    absl::StrAppend(&out, CommentBlock(indent, *d));
  }
  out += "{\n";
  const Json* props = Member(schema, "properties");
  if (props != nullptr && props->is_object()) {
    std::set<std::string> required;
    if (const Json* req = Member(schema, "required"); req != nullptr && req->is_array()) {
      for (const Json& r : *req) {
        if (r.is_string()) required.insert(r.get<std::string>());
      }
    }
    for (const auto& [name, prop] : props->items()) {
      AppendProperty(name, prop, required.count(name) > 0, indent, &out);
    }
  }
  absl::StrAppend(&out, indent, "}");
  return out;
}

std::string StringType(const Json& schema) {
  std::vector<std::string> values;
  if (const Json* e = Member(schema, "enum"); e != nullptr && e->is_array()) {
    for (const Json& v : *e) {
      if (v.is_string()) values.push_back(absl::StrCat("\"", OneLine(v.get<std::string>()), "\""));
    }
  }
  return values.empty() ? "string" : absl::StrJoin(values, " | ");
}

// Splits like Rust's str::lines(): on LF, dropping a CR before it; no final empty line.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    if (eol < text.size() && !line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    pos = eol + 1;
  }
  return lines;
}

// The schema renderer recurses once per nesting level; bound it so that no configuration
// can exhaust the stack.
constexpr int kMaxSchemaDepth = 64;

bool NestingExceeds(const Json& value, int budget) {
  if (!value.is_structured()) return false;
  if (budget == 0) return true;
  for (const Json& child : value) {
    if (NestingExceeds(child, budget - 1)) return true;
  }
  return false;
}

absl::StatusOr<std::string> NamespaceBlock(const ToolNamespace& ns) {
  std::vector<std::string> items;
  items.push_back(absl::StrCat("## ", ns.name, "\n"));
  if (ns.description.has_value()) {
    for (const std::string& line : Lines(*ns.description)) {
      items.push_back(ns.tools.empty() ? line : absl::StrCat("// ", line));
    }
  }
  if (!ns.tools.empty()) {
    items.push_back(absl::StrCat("namespace ", ns.name, " {\n"));
    for (const ToolDescription& tool : ns.tools) {
      for (const std::string& line : Lines(tool.description)) {
        items.push_back(absl::StrCat("// ", line));
      }
      if (!tool.parameters_json.has_value()) {
        items.push_back(absl::StrCat("type ", tool.name, " = () => any;\n"));
        continue;
      }
      const Json params = Json::parse(*tool.parameters_json, nullptr, /*allow_exceptions=*/false);
      if (params.is_discarded()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tool ", ns.name, ".", tool.name, ": parameters are not valid JSON"));
      }
      if (NestingExceeds(params, kMaxSchemaDepth)) {
        return absl::InvalidArgumentError(absl::StrCat("tool ", ns.name, ".", tool.name,
                                                       ": parameters nest deeper than ",
                                                       kMaxSchemaDepth, " levels"));
      }
      items.push_back(absl::StrCat("type ", tool.name, " = (_: ", SchemaToTypeScript(params, ""),
                                   ") => any;\n"));
    }
    items.push_back(absl::StrCat("} // namespace ", ns.name));
  }
  return absl::StrJoin(items, "\n");
}

// nlohmann prints exponents as `e-07` / `e+20`; the reference (Rust) prints `e-7` / `e20`.
std::string FloatText(const Json& value) {
  std::string s = value.dump();
  const size_t e = s.find_first_of("eE");
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e);
  std::string exponent = s.substr(e + 1);
  bool negative = false;
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    negative = exponent[0] == '-';
    exponent.erase(0, 1);
  }
  while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
  return absl::StrCat(mantissa, "e", negative ? "-" : "", exponent);
}

}  // namespace

std::string CompactJson(const Json& value) {
  if (value.is_object()) {
    std::vector<std::string> members;
    for (const auto& [key, v] : value.items()) {
      members.push_back(absl::StrCat(Json(key).dump(), ":", CompactJson(v)));
    }
    return absl::StrCat("{", absl::StrJoin(members, ","), "}");
  }
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const Json& v : value) items.push_back(CompactJson(v));
    return absl::StrCat("[", absl::StrJoin(items, ","), "]");
  }
  if (value.is_number_float()) return FloatText(value);
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string SchemaToTypeScript(const Json& schema, const std::string& indent) {
  if (const Json* one_of = Member(schema, "oneOf"); one_of != nullptr && one_of->is_array()) {
    return OneOfType(*one_of, indent);
  }
  const Json* type = Member(schema, "type");
  if (type != nullptr && type->is_array()) {
    std::vector<std::string> names;
    for (const Json& t : *type) {
      if (!t.is_string()) continue;
      const std::string& n = t.get_ref<const std::string&>();
      names.push_back(n == "integer" ? "number" : OneLine(n));
    }
    if (!names.empty()) return absl::StrJoin(names, " | ");
  }
  if (type == nullptr || !type->is_string()) return "any";
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "object") return ObjectType(schema, indent);
  if (t == "string") return StringType(schema);
  if (t == "number" || t == "integer") return "number";
  if (t == "boolean") return "boolean";
  if (t == "array") {
    const Json* items = Member(schema, "items");
    return items != nullptr ? SchemaToTypeScript(*items, indent) + "[]" : "Array<any>";
  }
  return "any";
}

absl::StatusOr<std::string> RenderToolsSection(const std::vector<ToolNamespace>& namespaces) {
  std::map<std::string, const ToolNamespace*> by_name;  // byte-wise order, last one wins
  for (const ToolNamespace& ns : namespaces) by_name[ns.name] = &ns;
  std::string out = "# Tools";
  for (const auto& [name, ns] : by_name) {
    absl::StatusOr<std::string> block = NamespaceBlock(*ns);
    if (!block.ok()) return block.status();
    absl::StrAppend(&out, "\n\n", *block);
  }
  return out;
}

}  // namespace warden::model::harmony
