/*
 * error: dv's error codes and the per-thread message that goes with the last
 * failure. Library code returns a negative DV_E* code and sets the message;
 * only cmd/ prints it.
 */
#ifndef DV_ERROR_H
#define DV_ERROR_H

/* On every function that returns an error code or an answer: ignoring it is a build
 * error (with -Werror), since a dropped error is how data gets lost quietly. */
#define DV_NODISCARD __attribute__((warn_unused_result))

enum {
    DV_OK = 0,
    DV_ERROR = -1,     /* generic failure */
    DV_ENOTFOUND = -2, /* object, file or key does not exist */
    DV_ECORRUPT = -3,  /* on-disk data fails a check */
    DV_EIO = -4,       /* a system call failed */
    DV_ENOMEM = -5,    /* allocation failed */
    DV_ELOCKED = -6,   /* the repository lock is held by another process */
    DV_EUSAGE = -7,    /* bad arguments or input from the user */
    DV_ENOREPO = -8,   /* not inside a git repository or dv not initialised */
    DV_ECONFLICT = -9, /* an operation would lose unsaved data */
    DV_EEXISTS = -10,  /* something is already there */
};

/** Record the message for the current failure; returns code so callers can `return
 * dv_error_set(...)`. */
DV_NODISCARD int dv_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Record an errno-based I/O failure: "<what>: <strerror(errno)>"; returns DV_EIO (or
 * DV_ENOMEM/DV_ENOTFOUND). */
DV_NODISCARD int dv_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Prefix the current message with more context ("adding data/x: <old message>"); returns code. */
DV_NODISCARD int dv_error_wrap(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** The last message set on this thread, never NULL. Valid until the next dv_error_* call on this
 * thread. */
const char *dv_error_last(void);

/** The code of the last error set on this thread. */
DV_NODISCARD int dv_error_last_code(void);

void dv_error_clear(void);

/* Longest message kept, with its NUL; longer ones are cut. */
#define DV_ERROR_MESSAGE_MAX 4096

/**
 * An error carried from one thread to another (a worker's failure reported by the thread
 * that waits for it), as libgit2's git_error_state: the code and a copy of the message.
 * Keep one per unit of work that can fail, so each failure keeps its own message.
 */
typedef struct dv_error_state {
    int code; /* 0: nothing captured */
    char message[DV_ERROR_MESSAGE_MAX];
} dv_error_state;

/** Record code and this thread's last message in state; returns code. */
DV_NODISCARD int dv_error_state_capture(dv_error_state *state, int code);
/** Make state this thread's last error; returns its code (0 when nothing was captured,
 *  and the thread's error is left alone then). */
DV_NODISCARD int dv_error_state_restore(const dv_error_state *state);

#endif
