/* The ceiling of "nginx + FastCGI" on this machine, for `make bench`: a bare libfcgi responder that does nothing
 * but answer. PROCESSES processes accept on one unix socket (blocking accept; the kernel wakes one) and answer every
 * request with a fixed JSON body the size of the service's: `/me`'s for a path ending in "/me", `GET /`'s otherwise.
 * No parsing, no database, no allocation per request. Built with gcc by scripts/bench at bench time.
 *
 *     ceiling SOCKET_PATH PROCESSES
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char ROOT_ANSWER[] =
    "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
    "{\"service\":\"user-service\",\"version\":\"1.0.0\",\"status\":\"running\"}";

static const char ME_ANSWER[] =
    "Status: 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\r\n"
    "{\"id\":\"0b6c2f4e-8d1a-4c3b-9e7f-1a2b3c4d5e6f\",\"email\":\"bench0123456789@example.com\","
    "\"username\":\"bench0123456789\",\"full_name\":null,\"current_title\":null,\"location\":null,"
    "\"is_active\":true,\"is_verified\":false,\"is_premium\":false,\"premium_plan\":null,\"premium_expires_at\":null,"
    "\"created_at\":\"2026-12-05T17:00:00.000000Z\",\"updated_at\":\"2026-12-05T17:00:00.000000Z\","
    "\"last_login\":\"2026-12-05T17:00:00.000000Z\"}";

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET_PATH PROCESSES\n", argv[0]);
        return 2;
    }
    int processes = atoi(argv[2]);
    if (FCGX_Init() != 0) return 1;
    unlink(argv[1]);
    int listener = FCGX_OpenSocket(argv[1], 1024);
    if (listener < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    chmod(argv[1], 0666); /* the folder around it decides who may connect */
    for (int i = 1; i < processes; i++) {
        pid_t pid = fork();
        if (pid == 0) break;
        if (pid < 0) {
            perror("fork");
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    FCGX_Request request;
    FCGX_InitRequest(&request, listener, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        const char *path = FCGX_GetParam("PATH_INFO", request.envp);
        size_t length = path ? strlen(path) : 0;
        int me = length >= 3 && strcmp(path + length - 3, "/me") == 0;
        if (me) FCGX_PutStr(ME_ANSWER, sizeof ME_ANSWER - 1, request.out);
        else FCGX_PutStr(ROOT_ANSWER, sizeof ROOT_ANSWER - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
