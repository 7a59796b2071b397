/* proxy/dns/internal.h: what the files of proxy/dns share — the zone data built from the
 * scenario (dns_zone.c) and the lookups the answer builder (dns_answer.c) makes on it. */
#ifndef AD_PROXY_DNS_INTERNAL_H
#define AD_PROXY_DNS_INTERNAL_H

#include "proxy/dns/dns.h"
#include "scenario/scn.h"

#include <libknot/libknot.h>
#include <stdbool.h>
#include <stddef.h>

/* A zone the lab is authoritative for: its apex and where its synthesized SOA lives. */
struct dns_zone {
  knot_dname_t *apex; /* lowercase wire name, owned */
  size_t soa_index;   /* into dns_zoneset.rrsets */
};

/* A per-name (and per-type) behaviour from scn->rules. */
struct dns_rule {
  knot_dname_t *name; /* lowercase wire name, owned */
  uint16_t type;      /* the only QTYPE it applies to; 0: every QTYPE */
  enum scn_dns_behaviour behaviour;
  uint32_t first_n;   /* 0: always; N: the first N queries it is applied to */
  uint32_t n_applied; /* queries it was applied to so far (only counted when first_n > 0);
                         dns_answer updates it: the only state that changes while serving */
};

/* Every record the lab serves, grouped into RRsets by (owner, type); owners are lowercase. */
struct dns_zoneset {
  struct dns_zone *zones;
  size_t n_zones;
  knot_rrset_t *rrsets; /* each owns its owner name and rdata */
  size_t n_rrsets;
  struct dns_rule *rules; /* in scenario order */
  size_t n_rules;
};

/* dns__zone_find returns the deepest zone containing `name` (lowercase), or NULL. */
const struct dns_zone *dns__zone_find(const struct dns_zoneset *zs, const knot_dname_t *name);
/* dns__rrset_find returns the RRset of `type` owned by `name`, or NULL. */
const knot_rrset_t *dns__rrset_find(const struct dns_zoneset *zs, const knot_dname_t *name,
                                    uint16_t type);
/* dns__name_exists says whether `name` owns any RRset (RFC 1034 4.3.2 "the name exists"). */
bool dns__name_exists(const struct dns_zoneset *zs, const knot_dname_t *name);
/* dns__name_has_children says whether some owner is strictly below `name`: an empty
 * non-terminal (RFC 8020 §2) answers NODATA, not NXDOMAIN. */
bool dns__name_has_children(const struct dns_zoneset *zs, const knot_dname_t *name);
/* dns__rule_find returns the rule to apply to a query for exactly `name` (lowercase) and
 * `qtype`, or NULL: of the rules for that name, one of that very type first, then one for every
 * type (type 0), each in scenario order, skipping those whose first_n queries are used up. It
 * does not count: the caller increments n_applied of the rule it applies. */
struct dns_rule *dns__rule_find(struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype);

#endif
