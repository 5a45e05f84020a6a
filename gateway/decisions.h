// Combining decisions of several texts or checks into one.
#ifndef WARDEN_GATEWAY_DECISIONS_H_
#define WARDEN_GATEWAY_DECISIONS_H_

#include "proto/common.pb.h"

namespace warden::gateway {

// Folds `part` (the decision on text number `text_index`) into `total`: the stronger
// action wins (with its message and stage), each category keeps its highest score (with
// that score's stage) and is flagged when any part flagged it (thresholds differ by stage,
// so a lower score may be the flagged one), rules are appended with `text_index` set,
// fail_open is sticky.
void MergeDecision(const v1::Decision& part, int text_index, v1::Decision* total);

// A BLOCK (fail closed) or ALLOW-with-fail_open (fail open) decision for a check that
// could not run.
v1::Decision CheckFailureDecision(bool fail_open, const std::string& reason);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_DECISIONS_H_
