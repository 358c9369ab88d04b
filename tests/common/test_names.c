/*
 * test_names — the sweep name rule (length in bytes, UTF-8, digits), derived
 * names cut at a character boundary, the priority range, the alias table
 * behind "did you mean", and the JSON comment finder used for the hint.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "../check.h"
#include "grid.h"
#include "hparams.h"
#include "json.h"
#include "names.h"
#include "termsafe.h"

/* Whether s is valid UTF-8 (every lead byte followed by its continuations). */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int l = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 ? 2 : 0;
        if (l == 0)
            return 0;
        for (int i = 1; i < l; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += l;
    }
    return 1;
}

int main(void)
{
    struct err e = ERR_INIT;
    char big[NAME_MAX_BYTES + 2];

    /* One limit, in bytes, for every caller. */
    memset(big, 'a', NAME_MAX_BYTES);
    big[NAME_MAX_BYTES] = '\0';
    CHECK_EQ_INT(name_valid(big, NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e), 0);
    big[NAME_MAX_BYTES] = 'a';
    big[NAME_MAX_BYTES + 1] = '\0';
    CHECK_EQ_INT(name_valid(big, NAME_BASE, MLP_EINVALID_GRID, "name", &e), MLP_EINVALID_GRID);
    CHECK_EQ_STR(e.path, "name");
    CHECK(strstr(e.msg, "at most 200 bytes") != NULL);
    CHECK_EQ_INT(name_valid("", NAME_BASE, MLP_EINVALID_GRID, "name", &e), MLP_EINVALID_GRID);
    CHECK_EQ_INT(name_valid("a\tb", NAME_BASE, MLP_EINVALID_GRID, "name", &e), MLP_EINVALID_GRID);
    /* C1 controls (U+009B is a one-byte CSI) and bidirectional overrides. */
    CHECK_EQ_INT(name_valid("a\xc2\x9b"
                            "2Jb",
                            NAME_BASE, MLP_EINVALID_GRID, "name", &e),
                 MLP_EINVALID_GRID);
    CHECK_EQ_INT(name_valid("cv\xe2\x80\xaetxt.exe", NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e),
                 MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(name_valid("x\xe2\x81\xa6y", NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e),
                 MLP_EINVALID_REQUEST);
    {
        char t[] = "a\x1b[2Jb\xc2\x9b\xe2\x80\xae\xe2\x81\xa9\x7f\nc\td\xc3\xa9";
        CHECK_EQ_INT((int)term_strip(t, true), 5);
        CHECK_EQ_STR(t, "a[2Jb\nc\td\xc3\xa9");
        char u[] = "x\ny\tz\r";
        CHECK_EQ_INT((int)term_strip(u, false), 3);
        CHECK_EQ_STR(u, "xyz");
    }
    CHECK_EQ_INT(name_valid("\xc2\xa0nbsp\xe2\x80\x94"
                            "dash",
                            NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e),
                 0);
    CHECK_EQ_INT(name_valid("caf\xc3", NAME_BASE, MLP_EINVALID_GRID, "name", &e),
                 MLP_EINVALID_GRID);
    CHECK_EQ_INT(name_valid("café-é", NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e), 0);
    /* Digits: fine as a base (it is derived into sweep-001), not as a name. */
    CHECK_EQ_INT(name_valid("001", NAME_BASE, MLP_EINVALID_GRID, "name", &e), 0);
    CHECK_EQ_INT(name_valid("001", NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e),
                 MLP_EINVALID_REQUEST);

    /* Derived names: cut at a character boundary, whatever the suffix. */
    char base[512] = "", out[NAME_MAX_BYTES + 1];
    for (int i = 0; i < 150; i++)
        strcat(base, "é"); /* 300 bytes, 2 per character */
    for (int k = 1; k <= 12; k++) {
        name_derive(out, sizeof out, base, k);
        CHECK(strlen(out) <= NAME_MAX_BYTES);
        CHECK(utf8_ok(out));
        CHECK_EQ_INT(name_valid(out, NAME_FINAL, MLP_EINVALID_REQUEST, "name", &e), 0);
    }
    strcpy(base, "a");
    for (int i = 0; i < 100; i++)
        strcat(base, "€"); /* 3 bytes each: the cut falls inside one */
    CHECK_EQ_INT((int)name_cut(base, 200), 199);
    CHECK_EQ_INT((int)name_cut(base, 199), 199);
    CHECK_EQ_INT((int)name_cut(base, 198), 196);
    CHECK_EQ_INT((int)name_cut("abc", 10), 3);
    name_derive(out, sizeof out, base, 2);
    CHECK(utf8_ok(out));
    CHECK_EQ_STR(out + strlen(out) - 2, "-2");
    CHECK_EQ_STR(name_derive(out, sizeof out, "fashion", 1), "fashion");
    CHECK_EQ_STR(name_derive(out, sizeof out, "fashion", 3), "fashion-3");
    CHECK_EQ_STR(name_derive(out, sizeof out, "001", 1), "sweep-001");

    CHECK(priority_valid(PRIORITY_MIN) && priority_valid(PRIORITY_MAX) && priority_valid(0));
    CHECK(!priority_valid((long long)PRIORITY_MAX + 1) && !priority_valid(PRIORITY_MIN - 1LL));

    /* Aliases first, edit distance after, only answers that are candidates. */
    CHECK_EQ_STR(hparams_suggest("learning_rate"), "lr");
    CHECK_EQ_STR(hparams_suggest("Learning-Rate"), "lr");
    CHECK_EQ_STR(hparams_suggest("lr_rate"), "lr");
    CHECK_EQ_STR(hparams_suggest("learningrate"), "lr");
    CHECK_EQ_STR(hparams_suggest("batch"), "batch_size");
    CHECK_EQ_STR(hparams_suggest("batchsize"), "batch_size");
    CHECK_EQ_STR(hparams_suggest("hidden_sizes"), "hidden");
    CHECK_EQ_STR(hparams_suggest("layers"), "hidden");
    CHECK_EQ_STR(hparams_suggest("weight_decay"), "l2");
    CHECK_EQ_STR(hparams_suggest("epoch"), "epochs");
    CHECK_EQ_STR(hparams_suggest("momentun"), "momentum"); /* a typo: edit distance */
    CHECK(hparams_suggest("val_acc") == NULL);             /* a metric is no hyperparameter */
    const char *metrics[] = {"val_accuracy", "val_loss", "train_accuracy", NULL};
    CHECK_EQ_STR(name_suggest("val_acc", metrics), "val_accuracy");
    CHECK_EQ_STR(name_suggest("accuracy", metrics), "val_accuracy");
    CHECK_EQ_STR(name_suggest("validation_accuracy", metrics), "val_accuracy");
    CHECK(name_suggest("mse", metrics) == NULL); /* val_mse is not a candidate here */

    /* Through the grid parser: the metric and a grid key. */
    const char *docs[][2] = {
        {"{\"dataset\":\"xor\",\"metric\":\"val_acc\"}", "did you mean \"val_accuracy\""},
        {"{\"dataset\":\"xor\",\"grid\":{\"learning_rate\":[0.1]}}", "did you mean \"lr\""},
        {"{\"dataset\":\"xor\",\"seed\":[1]}", "did you mean \"seeds\""},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cJSON *doc = cJSON_Parse(docs[i][0]);
        struct grid *g = NULL;
        struct err ge = ERR_INIT;
        CHECK(grid_parse(doc, NULL, &g, &ge) < 0);
        CHECK(strstr(ge.msg, docs[i][1]) != NULL);
        grid_free(g);
        cJSON_Delete(doc);
    }
    /* The grid's "name" obeys the same byte limit as --name. */
    char doc_text[600];
    memset(big, 'n', NAME_MAX_BYTES);
    big[NAME_MAX_BYTES] = '\0';
    snprintf(doc_text, sizeof doc_text, "{\"dataset\":\"xor\",\"name\":\"%s\"}", big);
    cJSON *doc = cJSON_Parse(doc_text);
    struct grid *g = NULL;
    struct err ge = ERR_INIT;
    CHECK_EQ_INT(grid_parse(doc, NULL, &g, &ge), 0);
    grid_free(g);
    cJSON_Delete(doc);
    snprintf(doc_text, sizeof doc_text, "{\"dataset\":\"xor\",\"name\":\"%sn\"}", big);
    doc = cJSON_Parse(doc_text);
    g = NULL;
    CHECK_EQ_INT(grid_parse(doc, NULL, &g, &ge), MLP_EINVALID_GRID);
    grid_free(g);
    cJSON_Delete(doc);

    /* Comments outside strings are found; inside strings they are text. */
    const char *c1 = "{\n  // the rates\n  \"lr\": [0.1]\n}";
    CHECK_EQ_INT((int)json_find_comment(c1, strlen(c1)), 4);
    const char *c2 = "{\"a\": 1 /* x */}";
    CHECK_EQ_INT((int)json_find_comment(c2, strlen(c2)), 8);
    const char *c3 = "{\"url\": \"http://x/*y*/\", \"q\": \"\\\"//\"}";
    CHECK_EQ_INT((int)json_find_comment(c3, strlen(c3)), -1);
    CHECK_EQ_INT((int)json_find_comment("{} /", 4), -1);
    return check_report();
}
