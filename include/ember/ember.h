// Everything a program needs to use Ember.
#ifndef EMBER_EMBER_H_
#define EMBER_EMBER_H_

#include "ember/collection.h"  // IWYU pragma: export
#include "ember/database.h"    // IWYU pragma: export
#include "ember/document.h"    // IWYU pragma: export
#include "ember/filter.h"      // IWYU pragma: export
#include "ember/options.h"     // IWYU pragma: export
#include "ember/search.h"      // IWYU pragma: export
#include "ember/status.h"      // IWYU pragma: export

#endif  // EMBER_EMBER_H_
