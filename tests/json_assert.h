/* json_assert.h - reading expected keys of cJSON trees in check tests. */
#ifndef GC_TESTS_JSON_ASSERT_H
#define GC_TESTS_JSON_ASSERT_H

#include <check.h>
#include <cjson/cJSON.h>

/* obj[key], failing the test when it is missing. */
static inline const cJSON *at(const cJSON *obj, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
	ck_assert_msg(m != NULL, "missing key %s", key);
	return m;
}

static inline double num(const cJSON *obj, const char *key)
{
	const cJSON *m = at(obj, key);
	ck_assert_msg(cJSON_IsNumber(m), "%s is not a number", key);
	return m->valuedouble;
}

static inline const char *str(const cJSON *obj, const char *key)
{
	const cJSON *m = at(obj, key);
	ck_assert_msg(cJSON_IsString(m), "%s is not a string", key);
	return m->valuestring;
}

#endif
