#pragma once
// A small JSON reader for tests that compare against the corpus
// .expected.json files. Not for production: no depth limit, numbers as
// double (the corpus counts are far below 2^53).

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing_json {

struct Value {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Value> arr;
  std::map<std::string, Value> obj;

  bool is_null() const { return type == kNull; }
  bool has(const std::string& k) const { return type == kObject && obj.count(k) > 0; }
  const Value& operator[](const std::string& k) const {
    static const Value kNullValue;
    auto it = obj.find(k);
    return it == obj.end() ? kNullValue : it->second;
  }
  int64_t i() const { return static_cast<int64_t>(num); }
  bool operator==(const Value& o) const {
    return type == o.type && b == o.b && num == o.num && str == o.str && arr == o.arr &&
           obj == o.obj;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::optional<Value> Parse() {
    Value v;
    if (!ParseValue(&v)) return std::nullopt;
    Ws();
    if (p_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void Ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
  }
  bool Lit(std::string_view w) {
    if (s_.substr(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
  }
  static void PutUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool Hex4(uint32_t* out) {
    if (p_ + 4 > s_.size()) return false;
    *out = static_cast<uint32_t>(std::strtoul(std::string(s_.substr(p_, 4)).c_str(), nullptr, 16));
    p_ += 4;
    return true;
  }
  bool ParseString(std::string* out) {
    if (p_ >= s_.size() || s_[p_] != '"') return false;
    ++p_;
    while (p_ < s_.size() && s_[p_] != '"') {
      char c = s_[p_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (p_ >= s_.size()) return false;
      char e = s_[p_++];
      switch (e) {
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && Lit("\\u")) {
            uint32_t lo;
            if (!Hex4(&lo)) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          PutUtf8(cp, out);
          break;
        }
        default: out->push_back(e);
      }
    }
    if (p_ >= s_.size()) return false;
    ++p_;
    return true;
  }
  bool ParseValue(Value* v) {
    Ws();
    if (p_ >= s_.size()) return false;
    char c = s_[p_];
    if (c == '{') {
      ++p_;
      v->type = Value::kObject;
      Ws();
      if (Lit("}")) return true;
      while (true) {
        Ws();
        std::string k;
        if (!ParseString(&k)) return false;
        Ws();
        if (!Lit(":")) return false;
        if (!ParseValue(&v->obj[k])) return false;
        Ws();
        if (Lit("}")) return true;
        if (!Lit(",")) return false;
      }
    }
    if (c == '[') {
      ++p_;
      v->type = Value::kArray;
      Ws();
      if (Lit("]")) return true;
      while (true) {
        v->arr.emplace_back();
        if (!ParseValue(&v->arr.back())) return false;
        Ws();
        if (Lit("]")) return true;
        if (!Lit(",")) return false;
      }
    }
    if (c == '"') {
      v->type = Value::kString;
      return ParseString(&v->str);
    }
    if (Lit("null")) return true;
    if (Lit("true")) {
      v->type = Value::kBool;
      v->b = true;
      return true;
    }
    if (Lit("false")) {
      v->type = Value::kBool;
      return true;
    }
    if (Lit("NaN") || Lit("Infinity") || Lit("-Infinity")) {
      v->type = Value::kNumber;
      return true;
    }
    char* end = nullptr;
    std::string tmp(s_.substr(p_, 64));
    v->num = std::strtod(tmp.c_str(), &end);
    if (end == tmp.c_str()) return false;
    v->type = Value::kNumber;
    p_ += end - tmp.c_str();
    return true;
  }

  std::string_view s_;
  size_t p_ = 0;
};

inline std::optional<Value> Parse(std::string_view s) { return Parser(s).Parse(); }

}  // namespace sluice::testing_json
