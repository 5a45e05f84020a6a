// Renders harmony conversations into token ids (shared/spec/harmony-format.md §2–§10).
//
// Rendering is piecewise: special tokens are inserted as ids and every text piece (role,
// name, recipient, channel, content type, each content part) is encoded separately with
// Tokenizer::EncodeOrdinary, so text can never forge a message boundary.
//
// Thread safety: immutable after construction; Render may be called concurrently. Holds a
// non-owning pointer to the tokenizer, which must outlive the renderer.
#ifndef WARDEN_MODEL_HARMONY_RENDERER_H_
#define WARDEN_MODEL_HARMONY_RENDERER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/harmony/message.h"
#include "model/tokenizer/tokenizer.h"

namespace warden::model::harmony {

enum class RenderMode {
  kConversation,  // just the messages
  kCompletion,    // messages, then <|start|> + next_role (prompt for the model)
  kTraining,      // messages; a trailing assistant `final` message ends with <|return|>
};

struct RenderOptions {
  RenderMode mode = RenderMode::kCompletion;
  Role next_role = Role::kAssistant;  // kCompletion only
  // Drop `analysis` messages before the first `final` one when the last assistant message
  // is on `final` (§10.2, reference behaviour).
  bool auto_drop_analysis = true;
  // A content type of exactly "json" renders as " <|constrain|>json", the <|constrain|>
  // token inserted by the renderer, as gpt-oss writes the header of a call with JSON
  // arguments. The reference library writes it as the text " json"; false does the same
  // (the reference conformance tests).
  bool constrain_json = true;
};

// Ids of the formatting tokens, looked up once from the tokenizer.
struct FormattingTokens {
  uint32_t start, message, end, call, return_, channel, constrain;
};

class Renderer {
 public:
  // FailedPrecondition if the tokenizer lacks the harmony special tokens.
  static absl::StatusOr<std::unique_ptr<Renderer>> Create(const Tokenizer* tokenizer);

  // InvalidArgument for a tool message without a name, system/developer content in a
  // message of another role, or tool parameters that are not JSON.
  absl::StatusOr<std::vector<uint32_t>> Render(absl::Span<const Message> messages,
                                               const RenderOptions& options) const;

  // One message (§3). `conversation_has_function_tools` adds the functions line to a
  // system message's channel section. Of `options`, only constrain_json applies.
  //
  // Header fields are ordinary text, with one exception: a content type that starts with
  // the text "<|constrain|>" (how the parser reports one the model wrote) renders that
  // prefix as the special token. It is for trusted text only; callers must not pass text an
  // untrusted party chose there (the gateway accepts only "", "json" and "code").
  absl::Status RenderMessage(const Message& message, bool conversation_has_function_tools,
                             std::vector<uint32_t>* out,
                             const RenderOptions& options = RenderOptions()) const;

  const FormattingTokens& tokens() const { return tokens_; }

 private:
  Renderer(const Tokenizer* tokenizer, FormattingTokens tokens)
      : tokenizer_(tokenizer), tokens_(tokens) {}

  absl::Status RenderContent(const Message& message, const Content& content,
                             bool conversation_has_function_tools,
                             std::vector<uint32_t>* out) const;

  const Tokenizer* tokenizer_;
  FormattingTokens tokens_;
};

// The text of a system / developer message's content (§5, §6).
absl::StatusOr<std::string> SystemContentText(const SystemContent& system,
                                              bool conversation_has_function_tools);
absl::StatusOr<std::string> DeveloperContentText(const DeveloperContent& developer);

}  // namespace warden::model::harmony

#endif  // WARDEN_MODEL_HARMONY_RENDERER_H_
