/* lab/cli/files.c: which scenario files a command works on — named files as they are, and the
 * *.yaml files of named directories, found recursively and sorted. A file whose name starts
 * with '_' only serves as a base for `extends:` and is not picked up from a directory. */
#include "common/buf.h"
#include "lab/cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Directories nested deeper than this are a symlink loop, not a catalogue. */
#define MAX_DEPTH 32

static void push(struct cli_files *f, char *path) {
  f->paths = xrealloc_array(f->paths, f->n + 1, sizeof *f->paths);
  f->paths[f->n++] = path;
}

static bool is_scenario_name(const char *name) {
  size_t len = strlen(name);
  return name[0] != '_' && name[0] != '.' && len > 5 && strcmp(name + len - 5, ".yaml") == 0;
}

static int by_path(const void *a, const void *b) {
  return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool walk(struct cli_files *f, const char *dir, int depth) {
  if (depth > MAX_DEPTH) {
    cli_error("%s: folders nested too deep (a symbolic link loop?)", dir);
    return false;
  }
  DIR *d = opendir(dir);
  if (d == NULL) {
    cli_error("%s: cannot read the folder: %s", dir, strerror(errno));
    return false;
  }
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue; /* ".", ".." and hidden folders */
    }
    struct buf path;
    buf_init(&path, 8192);
    bool fits =
        buf_appendf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
    struct stat st;
    if (!fits) {
      cli_error("%s/%s: path too long", dir, e->d_name);
      ok = false;
    } else if (stat(buf_cstr(&path), &st) != 0) {
      /* a dangling link is not a scenario */
    } else if (S_ISDIR(st.st_mode)) {
      ok = walk(f, buf_cstr(&path), depth + 1);
    } else if (S_ISREG(st.st_mode) && is_scenario_name(e->d_name)) {
      push(f, buf_take(&path));
    }
    buf_cleanup(&path);
  }
  closedir(d);
  return ok;
}

bool cli_files_add(struct cli_files *f, const char *arg) {
  struct stat st;
  if (stat(arg, &st) != 0) {
    cli_error("%s: %s", arg, strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    push(f, str_dup(arg));
    return true;
  }
  size_t first = f->n;
  if (!walk(f, arg, 0)) {
    return false;
  }
  qsort(f->paths + first, f->n - first, sizeof *f->paths, by_path);
  return true;
}

void cli_files_cleanup(struct cli_files *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->paths[i]);
  }
  free(f->paths);
  f->paths = NULL;
  f->n = 0;
}
