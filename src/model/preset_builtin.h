/* The shipped presets, compiled into the program from the presets/ files by
 * src/preset_embed.sh. They are the default set: the installed directory and
 * the user's override them by id, so an uninstalled build (or one whose
 * $(datadir) was never filled) still starts from the user's provider. */
#ifndef FLUENZR_PRESET_BUILTIN_H
#define FLUENZR_PRESET_BUILTIN_H

struct preset_builtin {
	const char *file;   /* the shipped file's name, e.g. "ovh.preset" */
	const char *text;   /* its contents */
};

extern const struct preset_builtin preset_builtins[];
extern const unsigned preset_nbuiltins;

#endif
