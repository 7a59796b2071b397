/* lab/kit.h: the Windows lab kit — the files that point a real Outlook in a Windows VM at the
 * lab: the lab CA, install.ps1 and uninstall.ps1, a .reg file of the client model's
 * Autodiscover registry state, a README, and the CA commands for macOS and Linux. */
#ifndef AD_LAB_KIT_H
#define AD_LAB_KIT_H

#include "certs/ca.h"
#include "common/buf.h"
#include "scenario/scn.h"

#include <stdbool.h>
#include <stddef.h>

struct kit;
struct sim_model; /* client/sim.h */

enum kit_status {
  KIT_OK = 0,
  KIT_EINPUT, /* a model, --set, address or scenario value the kit cannot take; kit_detail
                 says which and why */
  KIT_EIO,    /* a file could not be read or written; kit_detail names it */
};

/* The files of a kit, in the order they are written. */
enum kit_file {
  KIT_CER,              /* the lab CA, DER */
  KIT_PEM,              /* the lab CA, PEM (Linux trust stores want PEM) */
  KIT_INSTALL_PS1,      /* ASCII, CRLF */
  KIT_UNINSTALL_PS1,    /* ASCII, CRLF */
  KIT_REG,              /* UTF-16LE with a BOM, CRLF, as regedit writes */
  KIT_README,           /* ASCII, CRLF */
  KIT_CA_INSTALL_MACOS, /* POSIX sh, LF, mode 0755 */
  KIT_CA_UNINSTALL_MACOS,
  KIT_CA_INSTALL_LINUX,
  KIT_CA_UNINSTALL_LINUX,
  KIT_LOCAL_XML, /* the scenario's local Autodiscover XML file, copied; only when it has one */
  KIT_N_FILES,
};

/* kit_strerror returns a fixed description of `st`; never NULL. */
const char *kit_strerror(enum kit_status st);
/* kit_detail says what went wrong in the last failed call on `k`; never NULL. */
const char *kit_detail(const struct kit *k);

/* kit_new starts a kit for a Windows Outlook model ("outlook-2013", "outlook-2016-msi", ...)
 * with the model's default registry state (every method enabled). `model` names one of `own`
 * (models of --client-file, borrowed: they outlive the kit) or a built-in model; either must
 * read an Office registry (sim_model_office() != 0). KIT_EINPUT for a model the kit cannot be
 * written for (the message lists those it knows); *out is set even then, for kit_detail. */
enum kit_status kit_new(struct kit **out, const char *model, const struct sim_model *const *own,
                        size_t n_own);
/* kit_free releases the kit; NULL is fine. */
void kit_free(struct kit *k);

/* kit_use_scenario takes the domain, the address and the expectations of `s` (borrowed: it must
 * outlive the kit) and the registry settings of its `clients:` entry for the kit's model, if
 * it has one. Call it before kit_set, which overrides. KIT_EINPUT when the domain or a
 * RedirectServers host is not a plain DNS name. */
enum kit_status kit_use_scenario(struct kit *k, const struct scn *s);
/* kit_set applies one "NAME=VALUE", NAME spelled as the registry spells it (case does not
 * matter, as in the registry): a DWORD value takes 0 or 1, RedirectServers a comma-separated
 * list of host names (empty: none). KIT_EINPUT for an unknown name (the message lists the
 * known ones), a bad value, or a value the model's Office version does not have. */
enum kit_status kit_set(struct kit *k, const char *assignment);
/* kit_set_dns makes install.ps1 point the VM's DNS at `ip` (an IPv4 or IPv6 address, no
 * port: Windows asks port 53). Without it the kit leaves DNS alone. */
enum kit_status kit_set_dns(struct kit *k, const char *ip);
/* kit_set_ca takes the lab CA the kit installs (its certificate is copied). */
enum kit_status kit_set_ca(struct kit *k, struct ca *ca);

/* kit_file_name names a file of the kit (KIT_LOCAL_XML: NULL when the kit has none). */
const char *kit_file_name(const struct kit *k, enum kit_file f);
/* kit_render appends the bytes of one file to `out`; needs kit_set_ca first. KIT_EIO when the
 * local XML file cannot be read, KIT_EINPUT when `out` is full. */
enum kit_status kit_render(struct kit *k, enum kit_file f, struct buf *out);
/* kit_write writes every file of the kit into `dir` (created when missing, mode 0755; an
 * existing one keeps what else it holds). KIT_EINPUT when `dir` holds the state file of an
 * installed kit (autodisco-kit-state.json), KIT_EIO when a file cannot be written. */
enum kit_status kit_write(struct kit *k, const char *dir);

/* kit_value_names returns the names kit_set accepts, comma-separated (for messages). */
const char *kit_value_names(void);
/* kit_model_names returns the models the kit knows, comma-separated. */
const char *kit_model_names(void);
/* kit_knows_model says whether `model` (one of `own`, or built in) is a Windows Outlook the kit
 * can be written for. */
bool kit_knows_model(const char *model, const struct sim_model *const *own, size_t n_own);

#endif
